"""common.py: the helpers every script shares."""
import errno
import os
import signal
import stat

import pytest

from common import UserError, run_command, without_credentials, write_atomic


def test_write_atomic_leaves_no_temp_files(tmp_path):
    write_atomic(str(tmp_path / "a.txt"), "hello")
    write_atomic(str(tmp_path / "b.bin"), b"\x00\x01")
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.bin"]
    assert (tmp_path / "a.txt").read_text() == "hello"


@pytest.mark.parametrize("raised,code,line", [(UserError("no prompt"), 1, "error: no prompt"),
                                              (KeyboardInterrupt(), 130, "interrupted"),
                                              (EOFError(), 130, "interrupted"),
                                              (OSError(errno.ENOSPC, "No space left on device", "out/ckpt.pt"), 1,
                                               "error: cannot use out/ckpt.pt: No space left on device; the disk is "
                                               "full: free some space (or pass an --out_dir on another disk) and run "
                                               "the same command again; the files already written are whole"),
                                              (PermissionError(errno.EACCES, "Permission denied", "out"), 1,
                                               "error: cannot use out: Permission denied; no permission: check the "
                                               "folder's permissions, or pass another --out_dir")])
def test_every_script_ends_a_user_error_or_ctrl_c_in_one_line(raised, code, line, capsys):
    def main(argv):
        raise raised
    with pytest.raises(SystemExit) as e:
        run_command(main, [])
    assert e.value.code == code
    assert capsys.readouterr().err.strip() == line


def test_a_second_ctrl_c_while_exiting_is_ignored(capsys):
    def main(argv):
        raise KeyboardInterrupt
    with pytest.raises(SystemExit):
        run_command(main, [])
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_a_write_that_fails_names_the_file_and_leaves_no_temp_file(tmp_path):
    def fill_the_disk(f):
        f.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")
    path = str(tmp_path / "ckpt.pt")
    write_atomic(path, "the previous checkpoint")
    with pytest.raises(OSError) as e:
        write_atomic(path, fill_the_disk)
    assert e.value.filename == path
    assert os.listdir(tmp_path) == ["ckpt.pt"] and open(path).read() == "the previous checkpoint"


def test_atomic_writes_get_the_mode_open_gives_other_files(tmp_path):
    write_atomic(str(tmp_path / "atomic.json"), "{}")
    with open(tmp_path / "plain.jsonl", "w") as f:
        f.write("{}")
    modes = {stat.S_IMODE(os.stat(tmp_path / name).st_mode) for name in ("atomic.json", "plain.jsonl")}
    assert len(modes) == 1, modes


@pytest.mark.parametrize("text,clean", [
    ("http://user:sk-secret@host:11434/v1", "http://host:11434/v1"),
    ("https://token@example.org/x?y=1", "https://example.org/x?y=1"),
    ("teacher at http://127.0.0.1:8080 and https://a:b@c.d", "teacher at http://127.0.0.1:8080 and https://c.d"),
    ("no url here, but an @ sign", "no url here, but an @ sign")])
def test_credentials_in_urls_are_removed(text, clean):
    assert without_credentials(text) == clean
