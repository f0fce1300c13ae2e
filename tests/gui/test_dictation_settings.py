"""The "Dictate into apps" settings: checked before they apply, remembered, and used at once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox

from dictate.gui.settings import load_settings, open_settings


def _ok(dialog) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_settings_are_checked_applied_and_remembered(make_window, qtbot, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # the autostart entry goes there
    window = make_window()
    dialog = window.edit_dictation_settings()
    dialog.hotkey_edit.setText("Ctrl+Alt+Nosuchkey")
    _ok(dialog)
    assert dialog.isVisible() and "Nosuchkey" in dialog.error_label.text()
    dialog.hotkey_edit.setText("Ctrl+Alt+F9")
    dialog.mode_box.setCurrentIndex(dialog.mode_box.findData("toggle"))
    dialog.insertion_box.setCurrentIndex(dialog.insertion_box.findData("paste"))
    dialog.keep_open_spin.setValue(20)
    dialog.autostart_box.setChecked(True)
    _ok(dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.typing.method == "paste"
    assert window.hotkey.hotkey.text() == "Ctrl+Alt+F9" and window.hotkey.mode.value == "toggle"
    saved = load_settings(open_settings())
    assert (saved.hotkey, saved.hotkey_mode, saved.insertion, saved.keep_open_s) == ("Ctrl+Alt+F9", "toggle",
                                                                                      "paste", 20)
    entry = tmp_path / "xdg" / "autostart" / "dictate.desktop"
    assert "--hidden" in entry.read_text(encoding="utf-8")


def test_a_dictation_started_in_the_window_is_typed_nowhere(make_window, qtbot) -> None:
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(lambda: window.windowHandle() is not None and window.isActiveWindow())
    assert window.typing.begin() is not None and not window.typing.active


def test_hold_to_talk_with_a_chord_says_its_words_are_typed_at_the_release(make_window) -> None:
    window = make_window()
    dialog = window.edit_dictation_settings()
    dialog.hotkey_edit.setText("Ctrl+Alt+Space")
    dialog.mode_box.setCurrentIndex(dialog.mode_box.findData("hold"))
    assert dialog.mode_hint.isVisibleTo(dialog) and "when you let go" in dialog.mode_hint.text()
    dialog.hotkey_edit.setText("F9")  # a key alone types as the user speaks
    assert not dialog.mode_hint.isVisibleTo(dialog)
    dialog.hotkey_edit.setText("Ctrl+F9")
    assert dialog.mode_hint.isVisibleTo(dialog)
    dialog.mode_box.setCurrentIndex(dialog.mode_box.findData("toggle"))  # toggle types live with any key
    assert not dialog.mode_hint.isVisibleTo(dialog)
    dialog.reject()
