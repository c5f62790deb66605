"""The study driver: parallel workers over DVC stages, and adaptive rounds written into params.yaml."""
