"""Synthetic production-line frames: a part on a conveyor belt, its defects, and the camera."""
