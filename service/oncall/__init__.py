"""On-call: rotations with hand-offs, time-boxed overrides, and who is on call at a time."""
