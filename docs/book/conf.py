"""Sphinx configuration of the study's book (tools/build_book.py stages the sources beside a copy of
this file). Offline: no notebook is executed, and MathJax 3 with its fonts comes from the
sphinx-mathjax-offline package, copied into the site (no CDN)."""
project = "Meta-RL reproduction study"
author = "the study's authors"
copyright = "2026, the study's authors (text and figures CC-BY-4.0, code MIT)"
extensions = ["myst_nb", "sphinx-mathjax-offline"]
nb_execution_mode = "off"  # the notebooks are docs/full's executed full-profile copies
myst_enable_extensions = ["dollarmath", "amsmath"]
html_theme = "sphinx_book_theme"
html_title = "Meta-RL reproduction study"
html_theme_options = {"show_toc_level": 2, "use_download_button": True}
html_context = {"default_mode": "light"}  # the theme logs an error when no mode is stored yet
html_favicon = "favicon.png"
exclude_patterns = ["_build"]
suppress_warnings = ["mystnb.unknown_mime_type"]
