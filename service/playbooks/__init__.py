"""Playbooks: the YAML format, its validation, selection and a reloading registry."""
