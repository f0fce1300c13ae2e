"""The tray icon, closing into the tray, the start-hidden setting and the login autostart entry."""

from __future__ import annotations

import configparser
from dataclasses import replace
from pathlib import Path

from PySide6.QtGui import QImage

from dictate.gui.app import Background, remote_handlers
from dictate.gui.autostart import autostart_enabled, autostart_entry, autostart_path, exec_line, set_autostart
from dictate.gui.main_window import RecorderState
from dictate.gui.settings import AppSettings, load_settings, open_settings, save_settings
from dictate.gui.single_instance import CommandError
from dictate.gui.tray import Tray, TrayState, state_icon

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGED_ENTRY = REPO_ROOT / "packaging" / "io.github.dictate.desktop"
AUTOSTART_ONLY = {"Exec", "StartupNotify", "X-GNOME-Autostart-enabled"}  # keys the autostart entry sets itself


def test_the_tray_shows_each_state_and_its_menu_asks_the_app(qtbot) -> None:
    tray = Tray()
    images = set()
    for state in TrayState:
        tray.set_state(state)
        assert tray.state is state
        assert tray.icon.toolTip() == f"Dictate: {state.value}"
        assert tray.toggle_action.text() == ("Start dictation" if state is TrayState.IDLE else "Stop dictation")
        image = state_icon(state).pixmap(32, 32).toImage().convertToFormat(QImage.Format.Format_ARGB32)
        images.add(bytes(image.constBits()))
    assert len(images) == len(TrayState)  # three different icons
    assert [action.text() for action in tray.menu.actions() if not action.isSeparator()] == [
        "Show window", "Stop dictation", "Paste last dictation", "Quit"]
    for action, signal in ((tray.show_action, tray.show_requested),
                           (tray.toggle_action, tray.toggle_requested),
                           (tray.paste_last_action, tray.paste_last_requested), (tray.quit_action, tray.quit_requested)):
        with qtbot.waitSignal(signal, timeout=1000):
            action.trigger()


def test_in_background_mode_closing_hides_into_the_tray_and_dictation_goes_on(jfk_window, qtbot,
                                                                              engine_timeout_ms) -> None:
    window = jfk_window
    closed: list[bool] = []
    tray = Tray(window)
    background = Background(window, tray, keep_running=True, on_closed=lambda: closed.append(True))
    handlers = remote_handlers(window, background)
    qtbot.waitUntil(window.record_button.isEnabled, timeout=engine_timeout_ms)
    with qtbot.waitSignal(window.recording_started, timeout=engine_timeout_ms):
        assert handlers["toggle"]() in ("starting", "opening")
    assert tray.state is TrayState.LISTENING and tray.toggle_action.text() == "Stop dictation"
    background.set_typing_paused(True)  # the focus left the target window
    background.refresh()  # the menu opens: the window still records, typing is still paused
    assert tray.state is TrayState.TYPING_PAUSED
    background.set_typing_paused(False)
    assert tray.state is TrayState.LISTENING

    window.close()  # the user closes the window mid-dictation
    assert window.isHidden() and not closed
    assert window.state is RecorderState.RECORDING
    assert handlers["status"]() == "recording (window hidden)"
    qtbot.waitUntil(lambda: len(window.captions.committed_words) > 0, timeout=engine_timeout_ms)  # hidden, words come

    assert handlers["show"]() == "shown" and window.isVisible()
    said = window.captions.committed_text()
    with qtbot.waitSignal(window.recording_finished, timeout=engine_timeout_ms):
        tray.quit_action.trigger()  # Quit closes for real: the recording finishes its tail first
    qtbot.waitUntil(lambda: closed == [True], timeout=engine_timeout_ms)
    assert window.isHidden() and window.captions.committed_text().startswith(said)  # no word lost
    assert tray.state is TrayState.IDLE


def test_without_background_mode_closing_the_window_quits(make_window, qtbot) -> None:
    window = make_window()
    closed: list[bool] = []
    Background(window, Tray(window), keep_running=False, on_closed=lambda: closed.append(True))
    window.close()
    qtbot.waitUntil(lambda: closed == [True], timeout=5000)


def test_a_refused_start_is_an_error_reply_with_the_windows_reason(make_window, qtbot, tiny_model_dir) -> None:
    window = make_window(device_lister=lambda: [])  # a computer with no microphone
    handlers = remote_handlers(window, Background(window, None, keep_running=False, on_closed=lambda: None))
    qtbot.waitUntil(window.record_button.isEnabled)  # the model is ready
    try:
        handlers["start"]()
    except CommandError as error:
        assert str(error).startswith("dictation did not start: No microphone found.")
    else:
        raise AssertionError("start with no microphone replied ok")
    assert handlers["status"]() == "idle (window shown)"


def test_start_hidden_round_trips_through_the_settings_file(settings_dir) -> None:
    save_settings(open_settings(), replace(AppSettings(), start_hidden=True))
    ini = next(settings_dir.rglob("*.ini")).read_text()
    assert "start_hidden=true" in ini
    assert load_settings(open_settings()).start_hidden is True
    save_settings(open_settings(), AppSettings())
    assert load_settings(open_settings()).start_hidden is False
    store = open_settings()
    store.setValue("start_hidden", "perhaps")  # a hand-edited file
    assert load_settings(store).start_hidden is False


def read_entry(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(text)
    return dict(parser["Desktop Entry"])


def test_the_autostart_entry_is_the_launchers_entry_started_hidden(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert autostart_path() == tmp_path / "config" / "autostart" / "dictate.desktop"
    assert not autostart_enabled()
    path = set_autostart(True, "/opt/dictate/bin/dictate")
    assert path == autostart_path() and autostart_enabled()
    entry = read_entry(path.read_text(encoding="utf-8"))
    packaged = read_entry(PACKAGED_ENTRY.read_text(encoding="utf-8"))
    assert {key: value for key, value in entry.items() if key not in AUTOSTART_ONLY} == \
        {key: value for key, value in packaged.items() if key not in AUTOSTART_ONLY}
    assert entry["Exec"] == "/opt/dictate/bin/dictate --hidden"
    assert entry["StartupNotify"] == "false"  # no busy cursor for a window that does not open
    assert set_autostart(True, "/opt/dictate/bin/dictate") == path  # writing again is fine
    set_autostart(False)
    assert not path.exists() and not autostart_enabled()
    set_autostart(False)  # removing what is not there is fine


def test_the_autostart_entry_runs_this_dictate_and_quotes_what_needs_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/config")  # the XDG spec ignores a relative path
    monkeypatch.setenv("HOME", str(tmp_path))
    assert autostart_path() == tmp_path / ".config" / "autostart" / "dictate.desktop"
    program = read_entry(autostart_entry())["Exec"].removesuffix(" --hidden")
    assert Path(program).name == "dictate" and Path(program).is_file()  # the script of this environment
    assert exec_line('/home/a b/"x"/dictate') == r'"/home/a b/\\"x\\"/dictate" --hidden'
