"""One meta-iteration of the authors' HalfCheetah-velocity protocol per method, timed by phase.

    python benchmarks/profile_authors_iteration.py

10 tasks x 20 trajectories before adaptation, 5 x that after, 400 env steps per trajectory
(200 + the return's tail): physics against everything else, adaptation and outer step, the
return before and after one adaptation, and the inner solutions' stationarity (median over
tasks of |grad F(theta')| / |grad F(phi)|).
"""
import time, numpy as np, torch
from lib.bomrl import authors_locomotion as al
from lib.bomrl.baselines import GradientBaseline, GradientMetaConfig
from lib.envs.mujoco_batch import dims
torch.set_num_threads(1)
od, ad = dims(); proto = al.Protocol()
phi = al.init_policy(od, ad, seed=0)
norm = al.ObsNorm.empty(od)
t=time.perf_counter(); _, raw, _ = al.sample("halfcheetah-vel", phi, np.zeros(5), 20, norm, 1, proto); norm = norm.update(raw); print("warm-up", round(time.perf_counter()-t,1))
tasks = np.random.default_rng(0).uniform(0, 2, 10)
for name in ("Alg(1)", "Alg(2)", "Alg(3)", "MAML-TRPO"):
    m = al.AuthorsBOMRL(name, "halfcheetah-vel") if name.startswith("Alg") else GradientBaseline(name, GradientMetaConfig(alpha=0.1, delta=1e-2))
    t0=time.perf_counter(); pre, _, i1 = al.sample("halfcheetah-vel", phi, tasks, 20, norm, 2, proto)
    t1=time.perf_counter(); thetas=[m.adapt(phi, d) for d in pre]
    t2=time.perf_counter(); post, _, i2 = al.sample("halfcheetah-vel", thetas, tasks, 100, norm, 3, proto)
    t3=time.perf_counter(); new, info = m.outer(phi, pre, post, thetas)
    t4=time.perf_counter()
    print(name, f"sample {t1-t0+t3-t2:.1f}s (physics {i1['physics_s']+i2['physics_s']:.1f}) adapt {t2-t1:.1f}s outer {t4-t3:.1f}s",
          f"pre {np.mean([d.returns.mean() for d in pre]):.1f} post {np.mean([d.returns.mean() for d in post]):.1f}", {k: round(v,4) if isinstance(v,float) else v for k,v in info.items()})
