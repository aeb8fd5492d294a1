"""common.py: the helpers every script shares."""
import os

import pytest

from common import UserError, run_command, write_atomic


def test_write_atomic_leaves_no_temp_files(tmp_path):
    write_atomic(str(tmp_path / "a.txt"), "hello")
    write_atomic(str(tmp_path / "b.bin"), b"\x00\x01")
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.bin"]
    assert (tmp_path / "a.txt").read_text() == "hello"


@pytest.mark.parametrize("raised,code,line", [(UserError("no prompt"), 1, "error: no prompt"),
                                              (KeyboardInterrupt(), 130, "interrupted"),
                                              (EOFError(), 130, "interrupted")])
def test_every_script_ends_a_user_error_or_ctrl_c_in_one_line(raised, code, line, capsys):
    def main(argv):
        raise raised
    with pytest.raises(SystemExit) as e:
        run_command(main, [])
    assert e.value.code == code
    assert capsys.readouterr().err.strip() == line
