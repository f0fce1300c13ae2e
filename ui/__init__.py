"""Qt assets of the desktop app (stylesheet, icon), installed as the `dictate._ui` package data."""
