"""Catalogue of known Whisper models, installed as the `dictate._models` package data."""
