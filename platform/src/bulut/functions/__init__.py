"""Function projects: the two flavours, the catalog that maps images to folders, and the
per-function environments built once with uv.

    project.py       FunctionProject, Flavour, load_project()
    catalog.py       discover(), resolve() (image/annotation → folder)
    environments.py  ensure_environment() (venv per dependency set, uv, file lock)
"""
