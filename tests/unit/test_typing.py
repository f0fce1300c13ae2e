"""Typing into other windows, without a desktop: what each backend sends, the ledger, paste mode, the choice.

The real deliveries run in tests/e2e/test_typing_x11.py and test_typing_wayland.py.
"""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dictate.text.profiles import BUILTIN_PROFILES
from dictate.text.stage import TextEdit, TextStage
from dictate.transcript.types import Word
from dictate.typing import (
    Clipboard,
    ClipboardOnlyInserter,
    Focus,
    FocusGuard,
    InsertError,
    Keystrokes,
    PasteInserter,
    TypingLedger,
    TypingSession,
    WindowId,
    WindowInfo,
    choose_inserter,
    is_terminal_class,
)
from dictate.typing.base import check_typeable
from dictate.typing.focus import UnknownFocus
from dictate.typing.macos import KVK_RETURN, KVK_TAB, MAX_UNITS, MacEvent, mac_events, utf16_chunks
from dictate.typing.wayland import (
    DotoolInserter,
    WtypeInserter,
    YdotoolInserter,
    ascii_only,
    dotool_type_script,
    wtype_keys_command,
    wtype_type_command,
    ydotool_backspace_command,
    ydotool_type_command,
)
from dictate.typing.windows import (
    KEYEVENTF_KEYUP,
    KEYEVENTF_UNICODE,
    VK_BACK,
    VK_CONTROL,
    VK_RETURN,
    VK_SHIFT,
    VK_TAB,
    VK_V,
    KeyEvent,
    key_events,
    utf16_units,
    virtual_key_events,
)
from dictate.typing.x11 import UNICODE_KEYSYM_OFFSET, XK_RETURN, XK_TAB, keysym_for

DOWN, UP = KEYEVENTF_UNICODE, KEYEVENTF_UNICODE | KEYEVENTF_KEYUP


# Windows: SendInput's events


def test_windows_events_carry_each_utf16_unit_down_then_up():
    assert key_events("aé") == [KeyEvent(0, 0x61, DOWN), KeyEvent(0, 0x61, UP),
                                KeyEvent(0, 0xE9, DOWN), KeyEvent(0, 0xE9, UP)]


def test_windows_events_send_a_non_bmp_character_as_its_surrogate_pair():
    assert utf16_units("😀") == [0xD83D, 0xDE00]
    assert key_events("😀") == [KeyEvent(0, 0xD83D, DOWN), KeyEvent(0, 0xD83D, UP),
                                KeyEvent(0, 0xDE00, DOWN), KeyEvent(0, 0xDE00, UP)]


def test_windows_events_type_newline_and_tab_as_their_virtual_keys():
    assert key_events("\n\t") == [KeyEvent(VK_RETURN, 0, 0), KeyEvent(VK_RETURN, 0, KEYEVENTF_KEYUP),
                                  KeyEvent(VK_TAB, 0, 0), KeyEvent(VK_TAB, 0, KEYEVENTF_KEYUP)]


def test_windows_backspace_and_paste_chords():
    assert virtual_key_events(VK_BACK, 2) == [KeyEvent(VK_BACK, 0, 0), KeyEvent(VK_BACK, 0, KEYEVENTF_KEYUP)] * 2
    assert virtual_key_events(VK_V, 1, (VK_CONTROL, VK_SHIFT)) == [
        KeyEvent(VK_CONTROL, 0, 0), KeyEvent(VK_SHIFT, 0, 0), KeyEvent(VK_V, 0, 0),
        KeyEvent(VK_V, 0, KEYEVENTF_KEYUP), KeyEvent(VK_SHIFT, 0, KEYEVENTF_KEYUP),
        KeyEvent(VK_CONTROL, 0, KEYEVENTF_KEYUP)]


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc"))))
def test_windows_unicode_events_spell_the_text_in_utf16(text):
    units = [event.scan for event in key_events(text) if event.flags == DOWN]
    assert b"".join(unit.to_bytes(2, "little") for unit in units).decode("utf-16-le") == text


# macOS: Quartz events of at most 20 UTF-16 units


def test_mac_chunks_hold_at_most_20_units_and_never_split_a_surrogate_pair():
    text = "a" * 19 + "😀" + "b" * 25
    chunks = utf16_chunks(text)
    assert chunks == ["a" * 19, "😀" + "b" * 18, "b" * 7]
    assert all(len(utf16_units(chunk)) <= MAX_UNITS for chunk in chunks)


@given(st.text(st.characters(blacklist_categories=("Cs",))), st.integers(2, 40))
def test_mac_chunks_join_to_the_text(text, size):
    chunks = utf16_chunks(text, size)
    assert "".join(chunks) == text
    assert all(0 < len(utf16_units(chunk)) <= size for chunk in chunks)


def test_mac_events_press_return_and_tab_between_unicode_chunks():
    assert mac_events("Hi\nthere\tyou") == [MacEvent(text="Hi"), MacEvent(key=KVK_RETURN), MacEvent(text="there"),
                                             MacEvent(key=KVK_TAB), MacEvent(text="you")]


# Wayland: the tools' command lines


def test_wtype_sleeps_before_the_first_key_and_types_each_character_as_a_unicode_key():
    assert wtype_type_command("-a ơ\n") == ["wtype", "-s", "100", "-k", "U002D", "-k", "U0061", "-k", "U0020",
                                            "-k", "U01A1", "-k", "Return"]
    assert wtype_type_command("\t漢") == ["wtype", "-s", "100", "-k", "Tab", "-k", "U6F22"]


def test_wtype_key_commands_hold_modifiers_around_the_keys():
    assert wtype_keys_command("BackSpace", 3) == ["wtype", "-s", "100", "-k", "BackSpace", "-k", "BackSpace",
                                                  "-k", "BackSpace"]
    assert wtype_keys_command("v", 1, ("ctrl", "shift")) == ["wtype", "-s", "100", "-M", "ctrl", "-M", "shift",
                                                             "-k", "v", "-m", "shift", "-m", "ctrl"]


def test_ydotool_and_dotool_command_lines():
    assert ydotool_type_command("-x y\n") == ["ydotool", "type", "--key-delay", "2", "--", "-x y\n"]
    assert ydotool_backspace_command(2) == ["ydotool", "key", "14:1", "14:0", "14:1", "14:0"]
    assert dotool_type_script("one two\n\nthree") == "type one two\nkey enter\nkey enter\ntype three\n"


def test_us_keyboard_tools_refuse_text_they_cannot_type_before_typing_any():
    ascii_only("Hello, world!\n\tok ~", "ydotool")
    with pytest.raises(InsertError, match="cannot type 'é'"):
        ascii_only("café", "ydotool")
    calls = []
    inserter = YdotoolInserter({}, runner=lambda command: calls.append(command))
    with pytest.raises(InsertError):
        inserter.type_text("naïve")
    assert calls == []


class _Completed:
    def __init__(self, returncode=0, stderr=b""):
        self.returncode, self.stderr = returncode, stderr


def test_wtype_inserter_runs_the_commands_and_reports_the_tools_own_failure():
    calls = []
    inserter = WtypeInserter({"WAYLAND_DISPLAY": "wayland-1"}, runner=lambda c: calls.append(c) or _Completed())
    inserter.type_text("ok")
    inserter.backspace(1)
    assert calls == [["wtype", "-s", "1"], wtype_type_command("ok"), wtype_keys_command("BackSpace", 1)]
    failing = lambda c: _Completed(1, b"Compositor does not support the virtual keyboard protocol\n")  # noqa: E731
    with pytest.raises(InsertError, match="wtype failed: Compositor does not support the virtual keyboard"):
        WtypeInserter({"WAYLAND_DISPLAY": "wayland-1"}, runner=failing)
    with pytest.raises(InsertError, match="WAYLAND_DISPLAY"):
        WtypeInserter({}, runner=lambda c: _Completed())


def test_dotool_inserter_writes_commands_to_one_process():
    class Process:
        returncode = None

        def __init__(self):
            self.written = b""
            self.stdin = self

        def write(self, data):
            self.written += data

        def flush(self):
            pass

        def poll(self):
            return self.returncode

        def close(self):
            self.returncode = 0

        def wait(self, timeout=None):
            return 0

    process = Process()
    inserter = DotoolInserter({}, spawn=lambda: process)
    inserter.type_text("hi\nyou")
    inserter.backspace(2)
    inserter.close()
    assert process.written == b"type hi\nkey enter\ntype you\nkey backspace\nkey backspace\n"


# X11 keysyms


def test_x11_keysyms_latin1_as_code_points_others_as_unicode_keysyms_keys_for_newline_and_tab():
    assert keysym_for("a") == 0x61 and keysym_for("é") == 0xE9 and keysym_for("ß") == 0xDF
    assert keysym_for("€") == UNICODE_KEYSYM_OFFSET + 0x20AC
    assert keysym_for("漢") == UNICODE_KEYSYM_OFFSET + 0x6F22
    assert keysym_for("\n") == XK_RETURN and keysym_for("\t") == XK_TAB


def test_control_characters_other_than_newline_and_tab_are_refused():
    check_typeable("a\nb\tc", "x")
    with pytest.raises(InsertError, match="U\\+0007"):
        check_typeable("bell\a", "x")


# Terminals paste with Ctrl+Shift+V


def test_terminal_classes():
    assert is_terminal_class(("xterm", "XTerm"))
    assert is_terminal_class(("gnome-terminal-server", "Gnome-terminal"))
    assert is_terminal_class(("Alacritty", "Alacritty"))
    assert not is_terminal_class(("gedit", "Gedit"))
    assert not is_terminal_class(())


# Paste mode


class FakeClipboard:
    def __init__(self, text: str | None):
        self.text = text
        self.history: list[str] = []

    def as_clipboard(self) -> Clipboard:
        return Clipboard(lambda: self.text, self._set)

    def _set(self, text: str) -> None:
        self.text = text
        self.history.append(text)


class FakeKeys:
    def __init__(self, clipboard: FakeClipboard):
        self.clipboard, self.pasted, self.backspaces, self.closed = clipboard, [], 0, False
        self.terminal = []

    def paste_keystroke(self, terminal=False):
        self.pasted.append(self.clipboard.text)
        self.terminal.append(terminal)

    def backspace(self, count):
        self.backspaces += count

    def close(self):
        self.closed = True


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class FakeFocus:
    def __init__(self, window=None, info=None):
        self.window, self.infos, self.closed = window, dict(info or {}), False

    def focused_window(self):
        return self.window

    def window_info(self, window):
        return self.infos.get(window)

    def close(self):
        self.closed = True


def test_paste_mode_pastes_each_chunk_waits_for_it_to_land_and_gives_the_clipboard_back():
    board, clock = FakeClipboard("the user's text"), FakeClock()
    keys = FakeKeys(board)
    inserter = PasteInserter(keys, board.as_clipboard(), settle_s=0.3, sleep=clock.sleep, clock=clock)
    inserter.type_text("Hello")
    clock.now += 0.1
    inserter.type_text(" world.")
    inserter.close()
    assert keys.pasted == ["Hello", " world."]
    assert clock.slept == [pytest.approx(0.2), pytest.approx(0.3)]  # before the second chunk; before giving back
    assert board.text == "the user's text" and keys.closed


def test_paste_mode_leaves_a_clipboard_the_user_changed_meanwhile():
    board = FakeClipboard("old")
    inserter = PasteInserter(FakeKeys(board), board.as_clipboard(), settle_s=0, sleep=lambda s: None)
    inserter.type_text("dictated")
    board.text = "copied by the user"
    inserter.close()
    assert board.text == "copied by the user"


def test_paste_mode_gives_back_what_the_user_copied_between_chunks():
    board = FakeClipboard("old")
    inserter = PasteInserter(FakeKeys(board), board.as_clipboard(), settle_s=0, sleep=lambda s: None)
    inserter.type_text("one")
    board.text = "newer"
    inserter.type_text(" two")
    inserter.close()
    assert board.text == "newer"


def test_paste_mode_uses_ctrl_shift_v_in_a_terminal():
    board = FakeClipboard(None)
    keys = FakeKeys(board)
    focus = FakeFocus(WindowId(7), {7: WindowInfo(WindowId(7), 1, ("foot", "foot"), "x")})
    inserter = PasteInserter(keys, board.as_clipboard(), focus=focus, owns_focus=True, settle_s=0)
    inserter.type_text("ls")
    focus.infos[7] = WindowInfo(WindowId(7), 1, ("gedit", "Gedit"), "x")
    inserter.type_text(" -l")
    inserter.close()
    assert keys.terminal == [True, False]
    assert board.text == " -l"  # there was no text to give back
    assert focus.closed


def test_clipboard_only_holds_the_dictation_so_far():
    board = FakeClipboard("x")
    inserter = ClipboardOnlyInserter(board.as_clipboard(), "no way to type")
    inserter.type_text("Hello")
    inserter.type_text(" world")
    inserter.backspace(6)
    inserter.type_text(" there.")
    assert board.text == "Hello there." and inserter.reason == "no way to type"


# Choosing


def test_choose_inserter_lists_why_each_backend_cannot_work_and_falls_back_to_the_clipboard():
    env = {"WAYLAND_DISPLAY": "wayland-9", "PATH": "/nonexistent"}
    with pytest.raises(InsertError) as caught:
        choose_inserter("type", env, platform="linux")
    message = str(caught.value)
    assert "wtype: wtype is not installed" in message and "ydotool: ydotool is not installed" in message
    assert "dotool: dotool is not installed" in message
    board = FakeClipboard(None)
    inserter = choose_inserter("auto", env, clipboard=board.as_clipboard(), platform="linux")
    assert isinstance(inserter, ClipboardOnlyInserter) and "wtype is not installed" in inserter.reason
    with pytest.raises(InsertError, match="paste mode needs the clipboard"):
        choose_inserter("paste", env, platform="linux")
    with pytest.raises(ValueError, match="unknown insertion method"):
        choose_inserter("telepathy", env)


def test_choose_inserter_on_x11_without_a_display_says_so():
    with pytest.raises(InsertError, match="DISPLAY is not set"):
        choose_inserter("type", {"PATH": "/usr/bin"}, platform="linux")
    with pytest.raises(InsertError, match="only on Windows"):
        choose_inserter("type", {}, platform="win32")
    with pytest.raises(InsertError, match="only on macOS"):
        choose_inserter("type", {}, platform="darwin")


# The ledger: what the window receives is the dictation's text


def test_the_first_typed_text_loses_its_leading_space_then_the_text_follows_exactly():
    ledger = TypingLedger()
    ledger.apply(TextEdit(0, " Hello"))
    assert ledger.pending() == Keystrokes(0, "Hello")
    ledger.sent(ledger.pending())
    ledger.apply(TextEdit(0, " world"))
    assert ledger.pending() == Keystrokes(0, " world")
    ledger.sent(ledger.pending())
    assert ledger.window_text == "Hello world" == ledger.text


def test_a_deletion_of_text_typed_into_the_same_window_is_sent_as_backspaces():
    ledger = TypingLedger()
    ledger.apply(TextEdit(0, "Hello world,"))
    ledger.sent(ledger.pending())
    ledger.apply(TextEdit(1, "."))  # a mark said takes the place of the one written
    assert ledger.pending() == Keystrokes(1, ".")
    ledger.sent(ledger.pending())
    assert ledger.window_text == "Hello world." and not ledger.diverged


def test_after_the_focus_changed_no_backspace_is_sent_and_the_divergence_is_recorded():
    ledger = TypingLedger()
    ledger.apply(TextEdit(0, "Hello world."))
    ledger.sent(ledger.pending())
    ledger.focus_lost()
    ledger.apply(TextEdit(12, ""))  # "scratch that"
    assert ledger.pending() == Keystrokes(0, "")
    ledger.sent(ledger.pending())
    ledger.apply(TextEdit(0, " Good morning."))
    assert ledger.pending() == Keystrokes(0, "Good morning.")
    ledger.sent(ledger.pending())
    assert ledger.diverged and ledger.window_text == "Hello world.Good morning."


def test_text_said_while_paused_is_typed_when_the_focus_returns():
    ledger = TypingLedger()
    ledger.apply(TextEdit(0, "One."))
    ledger.sent(ledger.pending())
    ledger.focus_lost()
    ledger.apply(TextEdit(0, " Two."))
    ledger.apply(TextEdit(0, " Three."))
    assert ledger.pending() == Keystrokes(0, " Two. Three.")


def test_a_partial_delivery_is_resumed_where_it_stopped():
    ledger = TypingLedger()
    ledger.apply(TextEdit(0, "abcdef"))
    ledger.sent(ledger.pending(), delivered=2)
    assert ledger.pending() == Keystrokes(0, "cdef")


edits = st.lists(st.one_of(
    st.tuples(st.just("insert"), st.text(" abcé.\n", min_size=1, max_size=6)),
    st.tuples(st.just("delete"), st.integers(1, 4)),
    st.tuples(st.just("deliver"), st.none()),
    st.tuples(st.just("focus"), st.none()),
), max_size=40)


@settings(max_examples=300, deadline=None)
@given(edits)
def test_the_window_always_holds_what_the_ledger_says_and_backspaces_only_erase_this_dictations_text(steps):
    ledger, stage_text, window, user_text = TypingLedger(), "", "user's text|", "user's text|"
    erasable_floor = len(window)  # backspaces may never reach into what was there before
    for kind, value in steps:
        if kind == "insert":
            ledger.apply(TextEdit(0, value))
            stage_text += value
        elif kind == "delete":
            count = min(value, len(stage_text))
            ledger.apply(TextEdit(count, ""))
            stage_text = stage_text[: len(stage_text) - count]
        elif kind == "focus":
            ledger.focus_lost()
            erasable_floor = len(window)
        else:
            keys = ledger.pending()
            assert len(window) - keys.backspaces >= erasable_floor
            window = window[: len(window) - keys.backspaces] + keys.text
            ledger.sent(keys)
            assert window == user_text + ledger.window_text
            if not ledger.diverged:
                assert ledger.window_text == stage_text.lstrip(" ")


def test_a_real_dictation_reaches_the_window_exactly_as_the_stage_built_it():
    words, clock = [], 0.0
    spoken = ["hello there", "new paragraph", "this is a test", "period", "twenty five people came",
              "scratch that", "nobody came"]
    for phrase in spoken:
        for text in phrase.split():
            words.append(Word(clock, clock + 0.3, " " + text))
            clock += 0.3
        clock += 1.0
    stage, ledger, window, backspaces = TextStage(BUILTIN_PROFILES["dictation"]), TypingLedger(), "", 0
    for edit in [stage.add([word]) for word in words] + [stage.finish()]:
        ledger.apply(edit)
        keys = ledger.pending()
        window = window[: len(window) - keys.backspaces] + keys.text
        backspaces += keys.backspaces
        ledger.sent(keys)
    assert window == stage.text.lstrip(" ") == "Hello there\n\nThis is a test. Nobody came"
    assert backspaces == len("25 People came")  # "scratch that" in the same window (the space stays)


# The session: typing only while the focus is on the target


class RecordingInserter:
    name = "recording"

    def __init__(self, fail_with: InsertError | None = None):
        self.window, self.fail_with, self.closed = "", fail_with, False

    def type_text(self, text):
        if self.fail_with is not None:
            raise self.fail_with
        self.window += text

    def backspace(self, count):
        self.window = self.window[: len(self.window) - count]

    def close(self):
        self.closed = True


def _guard(focus: FakeFocus, own_pid=999) -> FocusGuard:
    return FocusGuard(focus, own_pid=own_pid)


def test_session_pauses_while_the_focus_is_elsewhere_and_resumes_on_the_target():
    infos = {1: WindowInfo(WindowId(1), 10, ("gedit", "Gedit"), "target"),
             2: WindowInfo(WindowId(2), 20, ("xterm", "XTerm"), "other"),
             3: WindowInfo(WindowId(3), 999, ("dictate", "dictate"), "ours")}
    focus = FakeFocus(WindowId(1), infos)
    inserter = RecordingInserter()
    session = TypingSession(inserter, _guard(focus))
    assert session.start() is Focus.TARGET
    assert session.apply(TextEdit(0, " Hello")).focus is Focus.TARGET
    focus.window = WindowId(2)
    report = session.apply(TextEdit(0, " world"))
    assert report.paused and report.pending and report.focus is Focus.ELSEWHERE
    focus.window = WindowId(3)
    assert session.deliver().focus is Focus.OWN_WINDOW
    focus.window = WindowId(1)
    report = session.deliver()
    assert not report.pending and inserter.window == "Hello world"
    session.finish()
    assert inserter.closed and focus.closed  # the session owns its inserter and its guard's tracker


def test_session_started_in_its_own_window_takes_the_next_window_as_target():
    infos = {3: WindowInfo(WindowId(3), 999, ("dictate", "dictate"), "ours"),
             1: WindowInfo(WindowId(1), 10, ("gedit", "Gedit"), "target")}
    focus = FakeFocus(WindowId(3), infos)
    inserter = RecordingInserter()
    session = TypingSession(inserter, _guard(focus))
    assert session.start() is Focus.OWN_WINDOW
    assert session.apply(TextEdit(0, "Hi")).pending
    focus.window = WindowId(1)
    assert not session.deliver().pending and inserter.window == "Hi"
    assert session.guard.target == WindowId(1)


def test_a_dictation_into_the_window_the_last_one_typed_into_starts_with_a_space():
    infos = {1: WindowInfo(WindowId(1), 10, ("gedit", "Gedit"), "target"),
             2: WindowInfo(WindowId(2), 20, ("xterm", "XTerm"), "other")}
    focus = FakeFocus(WindowId(1), infos)
    window = RecordingInserter()

    def dictate(edits: list[TextEdit], previous: TypingSession | None) -> TypingSession:
        session = TypingSession(window, _guard(focus))
        session.start(previous=previous)
        for edit in edits:
            session.apply(edit)
        session.finish()
        return session

    first = dictate([TextEdit(0, " That was silly.")], None)
    second = dictate([TextEdit(0, " I"), TextEdit(0, " went.")], first)
    third = dictate([TextEdit(0, ", and more")], second)  # punctuation first: no space before it
    assert window.window == "That was silly. I went., and more"
    assert second.text == " I went."
    focus.window = WindowId(2)
    other = RecordingInserter()
    fourth = TypingSession(other, _guard(focus))
    fourth.start(previous=third)
    fourth.apply(TextEdit(0, " Elsewhere"))
    assert other.window == "Elsewhere"  # another window: nothing to continue
    after_newline = dictate([TextEdit(0, " Next")], dictate([TextEdit(0, " Paragraph.\n\n")], fourth))
    assert other.window == "Elsewhere" and not after_newline.ledger.continues  # a new line needs no space


def test_session_types_when_the_focus_cannot_be_known():
    inserter = RecordingInserter()
    session = TypingSession(inserter, FocusGuard(UnknownFocus()))
    assert session.start() is Focus.UNKNOWN
    assert session.apply(TextEdit(0, "Hi")).focus is Focus.UNKNOWN and inserter.window == "Hi"


def test_a_failed_insertion_is_reported_and_the_rest_goes_to_the_clipboard():
    board = FakeClipboard("old")
    failing = RecordingInserter(InsertError("wtype failed: no protocol"))
    session = TypingSession(failing, FocusGuard(UnknownFocus()), fallback=board.as_clipboard())
    session.start()
    report = session.apply(TextEdit(0, "Hello"))
    assert report.fell_back and "no protocol" in str(report.error) and failing.closed
    assert isinstance(session.inserter, ClipboardOnlyInserter) and board.text == "Hello"
    session.apply(TextEdit(0, " again"))
    assert board.text == "Hello again"


def test_a_passing_failure_keeps_the_text_for_later():
    inserter = RecordingInserter(InsertError("Ctrl is held down", retry=True))
    session = TypingSession(inserter, FocusGuard(UnknownFocus()), fallback=FakeClipboard(None).as_clipboard())
    session.start()
    report = session.apply(TextEdit(0, "Hi"))
    assert report.pending and report.error.retry and not report.fell_back
    inserter.fail_with = None
    assert not session.deliver().pending and inserter.window == "Hi"


def test_tool_runner_timeout_is_an_insert_error():
    def stuck(command):
        raise subprocess.TimeoutExpired(command, 10)

    inserter = YdotoolInserter({}, runner=stuck)
    with pytest.raises(InsertError, match="did not finish"):
        inserter.type_text("hi")
