"""The PySide6 desktop app: main window, engine worker thread, dialogs (the only package that imports Qt)."""
