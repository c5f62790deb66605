"""One training run: the loop and its callbacks, optimiser, device, resume, inference and prediction."""
