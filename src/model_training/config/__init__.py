"""The run's settings: the configuration model (``run.py``), the per-dataset manifest, the environment and SSM
(``settings.py``), the ceilings on what a run may spend (``limits.py``), and their precedence (``resolve.py``):
defaults < environment < SSM < manifest.json < command-line flags."""
