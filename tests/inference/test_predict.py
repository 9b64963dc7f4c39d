"""`seqmnist-zoo predict` and `predict_digits`: folders, top-k, JSON, what the model saw, bad files."""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from seqmnist_zoo.inference.predict import predict_digits

FONT = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")  # ships with matplotlib


@pytest.fixture
def digits_folder(tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    font = ImageFont.truetype(FONT, 160)
    for digit in (2, 5, 9):
        picture = Image.new("L", (400, 300), 240)
        ImageDraw.Draw(picture).text((30 * digit, 40), str(digit), font=font, fill=20)
        picture.save(folder / f"digit_{digit}.png")
    return folder


def test_a_folders_other_files_are_named_as_not_read(digits_folder, run_cli):
    (digits_folder / "notes.txt").write_text("my digits")
    (digits_folder / ".DS_Store").write_bytes(b"\0")
    for _ in range(2):
        code, out, err = run_cli("predict", "gru", digits_folder, "--json")
        assert code == 0 and len(json.loads(out)) == 3
        assert err.strip().splitlines() == [
            f"seqmnist-zoo: warning: {digits_folder}: 1 file not read, not a picture by its name "
            "(notes.txt); accepted: .png, .jpg, .jpeg, .bmp, .gif, .webp, .tif, .tiff, .npy"]


def test_api_ranks_top_k_for_files_and_folders(digits_folder):
    predictions = predict_digits("lstm", [digits_folder], top_k=3)
    assert [p.digit for p in predictions] == [2, 5, 9]
    for p in predictions:
        probabilities = [prob for _, prob in p.top]
        assert len(p.top) == 3 and probabilities == sorted(probabilities, reverse=True)
        assert p.image.shape == (28, 28) and p.source.endswith(f"digit_{p.digit}.png")


def test_answers_of_an_untrained_model_come_with_a_warning(digits_folder, recwarn):
    from seqmnist_zoo import get_model

    predict_digits("lstm", [digits_folder])
    assert not [w for w in recwarn if "near chance" in str(w.message)]
    with pytest.warns(UserWarning, match="every answer is near chance .* the model's weights look untrained"):
        predictions = predict_digits(get_model("lstm", units=16), [digits_folder])
    assert all(p.ok and p.probability < 0.2 for p in predictions)


@pytest.mark.parametrize("top_k", [0, 11, 2.5, "3", True])
def test_api_refuses_a_top_k_outside_one_to_ten(top_k, digits_folder):
    from seqmnist_zoo.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="top_k must be an integer from 1 to 10"):
        predict_digits("lstm", [digits_folder], top_k=top_k)


def test_reading_by_name_builds_the_model_once_per_weights(digits_folder, monkeypatch, tmp_path):
    import os
    import shutil

    from seqmnist_zoo import get_model_spec
    from seqmnist_zoo.inference import predict

    built = []
    real = predict._built_model.__wrapped__
    monkeypatch.setattr(predict, "_built_model",
                        predict.functools.lru_cache(maxsize=4)(lambda *a: built.append(a[:2]) or real(*a)))
    picture = [digits_folder / "digit_2.png"]
    first = predict_digits("gru", picture)
    again = predict_digits("gru", picture)
    predict_digits("gru", picture, weights="mnist")
    own = tmp_path / "gru.weights.h5"
    shutil.copy(get_model_spec("gru").weights_for("mnist").path(), own)
    predict_digits("gru", picture, weights=own)
    predict_digits("gru", picture, weights=str(own))
    os.utime(own, ns=(1, 1))  # the file changed on disk (retrained): loaded again
    predict_digits("gru", picture, weights=own)
    assert built == [("gru", "mnist-robust"), ("gru", "mnist"), ("gru", str(own)), ("gru", str(own))]
    assert first[0].top == again[0].top


def test_cli_predicts_a_folder_as_json_and_saves_what_the_model_saw(digits_folder, tmp_path, run_cli):
    seen = tmp_path / "seen"
    code, out, err = run_cli("predict", "bilstm", digits_folder, "--json", "--top-k", "2",
                             "--save-inputs", seen)
    assert code == 0, err
    results = json.loads(out)
    assert [r["top"][0]["digit"] for r in results] == [2, 5, 9] and len(results[0]["top"]) == 2
    files = sorted(p.name for p in seen.iterdir())
    assert files == ["001_digit_2.png", "002_digit_5.png", "003_digit_9.png", "contact_sheet.png",
                     "saved_inputs.txt"]
    assert np.asarray(Image.open(seen / "002_digit_5.png")).shape == (28, 28)


def test_save_inputs_twice_refuses_then_replaces_with_overwrite(digits_folder, tmp_path, run_cli):
    seen = tmp_path / "seen"
    assert run_cli("predict", "lstm", digits_folder, "--save-inputs", seen)[0] == 0
    (seen / "007_my_notes.png").write_bytes(b"a file of the user's, not the zoo's")
    first = sorted(p.name for p in seen.iterdir())
    code, out, err = run_cli("predict", "lstm", digits_folder / "digit_5.png", "--save-inputs", seen)
    assert code == 2 and "--overwrite" in err and "Traceback" not in err
    assert sorted(p.name for p in seen.iterdir()) == first  # nothing lost
    assert run_cli("predict", "lstm", digits_folder / "digit_5.png", "--save-inputs", seen,
                   "--overwrite")[0] == 0
    assert sorted(p.name for p in seen.iterdir()) == ["001_digit_5.png", "007_my_notes.png",
                                                      "contact_sheet.png", "saved_inputs.txt"]


def test_save_inputs_into_the_folder_being_read_is_refused_even_with_overwrite(digits_folder, run_cli):
    before = sorted(p.name for p in digits_folder.iterdir())
    code, out, err = run_cli("predict", "lstm", digits_folder, "--save-inputs", digits_folder, "--overwrite")
    assert code == 2 and "is a folder being read" in err and "Traceback" not in err, err
    assert out == "" and sorted(p.name for p in digits_folder.iterdir()) == before
    code, out, err = run_cli("predict", "lstm", digits_folder / "digit_5.png", "--save-inputs",
                             digits_folder, "--overwrite")
    assert code == 2 and "is the folder of" in err and "Traceback" not in err, err
    assert sorted(p.name for p in digits_folder.iterdir()) == before


def test_saved_inputs_of_a_picture_read_digit_by_digit_keep_their_number(tmp_path):
    from seqmnist_zoo.inference.predict import DigitPrediction
    from seqmnist_zoo.reports import write_inputs

    seen = [DigitPrediction(f"photo.png#{k}", np.zeros((28, 28), "uint8"), ((k, 0.9),)) for k in (1, 2)]
    names = [p.name for p in write_inputs(tmp_path, seen)]
    assert names == ["001_photo#1.png", "002_photo#2.png", "contact_sheet.png"]


def test_a_contact_sheet_of_one_digit_is_wide_enough_for_its_title(tmp_path):
    from PIL import Image

    from seqmnist_zoo.inference.predict import DigitPrediction
    from seqmnist_zoo.reports import write_inputs

    write_inputs(tmp_path, [DigitPrediction("one.png", np.zeros((28, 28), "uint8"), ((1, 0.9),))])
    sheet = np.asarray(Image.open(tmp_path / "contact_sheet.png").convert("L"))
    assert sheet.shape[1] >= 300  # 3 inches at 100 dpi: the 9-point title fits (it was cut at 150)
    ink_columns = np.flatnonzero((sheet[:40] < 128).any(axis=0))  # the title's dark text, top rows
    assert ink_columns.min() > 2 and ink_columns.max() < sheet.shape[1] - 3  # not cut at an edge


def test_read_gif_and_report_never_replace_files_silently(digits_folder, tmp_path, run_cli):
    gif = tmp_path / "reading.gif"
    gif.write_bytes(b"mine")
    code, out, err = run_cli("read", "gru", digits_folder / "digit_5.png", "--gif", gif)
    assert code == 2 and "--overwrite" in err and gif.read_bytes() == b"mine"
    assert run_cli("read", "gru", digits_folder / "digit_5.png", "--gif", gif, "--overwrite")[0] == 0
    assert gif.read_bytes()[:3] == b"GIF"
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "notes.md").write_text("mine")
    code, out, err = run_cli("report", "gru", "--output", tmp_path / "report")
    assert code == 2 and "--overwrite" in err


def test_cli_reports_each_bad_file_on_one_line_and_predicts_the_rest(digits_folder, run_cli):
    Image.new("L", (300, 300), 250).save(digits_folder / "blank.png")
    (digits_folder / "zero.png").write_bytes(b"")
    code, out, err = run_cli("predict", "gru", digits_folder)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("seqmnist-zoo: error: ") for line in lines)
    assert "blank.png: no digit found" in lines[0] and "zero.png: the file is empty (0 bytes)" in lines[1]
    assert [line.split(": ")[1][0] for line in out.strip().splitlines()] == ["2", "5", "9"]
    assert "Traceback" not in out + err


def test_cli_raw_reads_mnist_npy_unchanged(tmp_path, mnist, run_cli):
    _, (x, y) = mnist
    np.save(tmp_path / "five.npy", x[:5])
    code, out, _ = run_cli("predict", "lstm", tmp_path / "five.npy", "--raw", "--top-k", "1")
    assert code == 0
    assert [int(line.split(": ")[1][0]) for line in out.strip().splitlines()] == y[:5].tolist()


@pytest.mark.parametrize("args,code,message", [
    (["predict", "lstm", "/no/such/digit.png"], 1, "/no/such/digit.png: no such file or folder"),
    (["predict", "lstm", "--top-k", "0", "x.png"], 2, "0 is not in the range 1<=x<=10"),
    (["predict", "lstn", "x.png"], 2, "unknown model 'lstn'"),
])
def test_cli_predict_mistakes_are_one_line(run_cli, args, code, message):
    got, out, err = run_cli(*args)
    assert got == code and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_empty_folder_is_named(tmp_path, run_cli):
    code, _, err = run_cli("predict", "lstm", tmp_path)
    assert code == 1 and "the folder holds no image files" in err


def test_digits_of_one_array_are_named_by_their_index():
    from seqmnist_zoo.inputs.preprocess import prepare_each

    digits = np.zeros((2, 28, 28), "uint8")
    digits[:, 5:23, 12:16] = 255
    assert [item.source for item in prepare_each(digits)] == ["array[0]", "array[1]"]
    assert [item.source for item in prepare_each(list(digits))] == ["array[0]", "array[1]"]


def test_a_weights_file_without_its_record_is_explained_at_the_cli(digits_folder, tmp_path, run_cli):
    from seqmnist_zoo import get_model

    weights = tmp_path / "small.weights.h5"
    get_model("gru", units=8).save_weights(weights)
    code, out, err = run_cli("predict", "gru", digits_folder, "--weights", weights)
    assert code == 2 and not out and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "no small.json is beside it to give its shape: pass --timesteps and --units" in err
    code, out, err = run_cli("predict", "gru", digits_folder, "--weights", weights, "--units", "8")
    assert code == 0 and out.count("digit_") == 3, err
    # with the record `train` writes beside it, the same file loads
    (tmp_path / "small.json").write_text(json.dumps({"config": {"timesteps": 28, "units": 8}}))
    code, out, err = run_cli("predict", "gru", digits_folder, "--weights", weights)
    assert code == 0 and out.count("digit_") == 3, err
    # ... and, never trained, its guesses come with the zoo's own warning line
    assert err.startswith("seqmnist-zoo: warning: every answer is near chance") and "Warning" not in err
    # a record that does not say how, or says it wrongly, is named as the culprit
    for record, said in (('{"units": 8}', 'small.json beside it has no "config" to give its shape'),
                         ('{"config": {"units": 16}}', "the shape was read from small.json beside it"),
                         ("not json", "small.json beside small.weights.h5 is not a run record")):
        (tmp_path / "small.json").write_text(record)
        code, out, err = run_cli("predict", "gru", digits_folder, "--weights", weights)
        assert code == 2 and said in err and len(err.strip().splitlines()) == 1, (record, err)
