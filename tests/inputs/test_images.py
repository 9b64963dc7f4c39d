"""The reader of user files: every picture format people export, and every bad file, one line each."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from seqmnist_zoo.errors import InvalidArgumentError
from seqmnist_zoo.inputs.images import MAX_PIXELS, as_grayscale_stack, expand_paths, read_file, read_picture


def test_folders_expand_to_their_sorted_images(tmp_path):
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in expand_paths([tmp_path])] == ["a.jpg", "b.png"]


@pytest.mark.parametrize("make,message", [
    (lambda p: p / "missing.png", "no such file or folder"),
    (lambda p: p, "the folder holds no image files"),
])
def test_missing_paths_and_empty_folders_are_named(tmp_path, make, message):
    (tmp_path / "readme.txt").write_text("no pictures here")
    with pytest.raises(InvalidArgumentError, match=message):
        expand_paths([make(tmp_path)])


def test_transparent_png_lands_on_white_paper(tmp_path):
    picture = Image.new("RGBA", (60, 60), (0, 0, 0, 0))
    picture.paste((0, 0, 0, 255), (20, 10, 30, 50))  # an opaque black bar on transparency
    picture.save(tmp_path / "t.png")
    gray = read_picture(tmp_path / "t.png")
    assert gray[0, 0] == 255 and gray[30, 25] == 0


def test_palette_16bit_cmyk_and_exif_rotation(tmp_path):
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    palette.info["transparency"] = 1
    palette.save(tmp_path / "p.png", transparency=0)  # index 0 (white) is see-through -> paper
    assert read_picture(tmp_path / "p.png").min() == 255
    Image.fromarray(np.full((20, 20), 65535, "uint16")).save(tmp_path / "deep.png")
    assert read_picture(tmp_path / "deep.png").max() == pytest.approx(255)
    Image.new("CMYK", (20, 20), (0, 0, 0, 255)).save(tmp_path / "c.jpg")
    assert read_picture(tmp_path / "c.jpg").max() < 30
    wide = Image.new("L", (40, 20), 255)
    exif = wide.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees to display"
    wide.save(tmp_path / "r.jpg", exif=exif)
    assert read_picture(tmp_path / "r.jpg").shape == (40, 20)


def test_animated_gif_reads_its_first_frame_and_says_so(tmp_path):
    frames = [Image.new("L", (20, 20), v) for v in (0, 255)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match="an animation of 2 frames; reading the first"):
        gray = read_picture(tmp_path / "a.gif")
    assert gray.max() == 0


def _png_header_only(path, width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


@pytest.mark.parametrize("write,message", [
    (lambda p: p.write_bytes(b""), "the file is empty"),
    (lambda p: p.write_bytes(_png_bytes()[:60]), "not a readable image"),
    (lambda p: Image.new("L", (1, 1)).save(p), r"\.png: 1x1 pixels is too small to hold a digit; at least"),
    (lambda p: _png_header_only(p, 20000, 20000), f"larger than {MAX_PIXELS:,} pixels"),
])
def test_bad_pictures_are_one_line_errors(tmp_path, write, message):
    path = tmp_path / "bad.png"
    write(path)
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        read_file(path)
    assert "\n" not in str(caught.value) and str(caught.value).count(str(path)) == 1


def test_an_unreadable_picture_is_named_damaged_or_its_kind_not_accepted(tmp_path):
    (tmp_path / "cut.png").write_bytes(_png_bytes()[:60])
    damaged = (r"cut\.png: not a readable image \(.*\); "
               r"is the \.png file damaged, cut short or another kind renamed\?$")
    with pytest.raises(InvalidArgumentError, match=damaged):
        read_picture(tmp_path / "cut.png")
    (tmp_path / "notes.txt").write_text("a shopping list")
    with pytest.raises(InvalidArgumentError, match=r"notes\.txt: not a readable image .*; accepted: \.png"):
        read_picture(tmp_path / "notes.txt")


def test_an_empty_file_is_named_empty_whatever_its_kind(tmp_path):
    for name in ("empty.png", "empty.npy"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(InvalidArgumentError, match=rf"{name}: the file is empty \(0 bytes\); is the "
                                                       r"\.(png|npy) file damaged"):
            read_file(tmp_path / name)
    (tmp_path / "empty.txt").write_bytes(b"")
    not_a_picture = r"empty\.txt: the file is empty \(0 bytes\); accepted: \.png"
    with pytest.raises(InvalidArgumentError, match=not_a_picture):
        read_file(tmp_path / "empty.txt")


def _png_bytes():
    import io

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype="uint8")).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("array,message", [
    (np.array([[np.nan] * 10] * 10), "NaN or infinite"),
    (np.full((10, 10), np.inf), "NaN or infinite"),
    (np.array([["a"] * 10] * 10), "not numbers"),
    (np.zeros((2, 2, 10, 10)), "expected pixels shaped"),
])
def test_bad_arrays_are_refused(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(InvalidArgumentError, match=message):
        read_file(tmp_path / "bad.npy")


def test_object_arrays_are_not_unpickled(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidArgumentError, match="not a readable .npy array"):
        read_file(tmp_path / "o.npy")


def test_unit_range_floats_are_scaled_with_a_warning():
    with pytest.warns(UserWarning, match=r"in \[0, 1\] were read as intensities"):
        stack = as_grayscale_stack(np.full((2, 10, 10), 0.5))
    assert stack.shape == (2, 10, 10) and stack.max() == pytest.approx(127.5)


@pytest.mark.parametrize("dtype", ["uint8", "int64", "bool"])
def test_a_binary_mask_is_read_as_ink_not_refused_as_faint(dtype):
    from seqmnist_zoo.inference.predict import predict_digits

    mask = np.zeros((28, 28), dtype)
    mask[4:24, 13:15] = 1  # a "1", as (x > 0) gives it
    with pytest.warns(UserWarning, match=r"in \[0, 1\] were read as intensities"):
        assert as_grayscale_stack(mask).max() == 255
    with pytest.warns(UserWarning, match=r"^array: pixel values"):  # the warning names its input
        [answer] = predict_digits("lstm", mask)
    assert answer.ok and answer.digit == 1
    assert any("were read as intensities" in said for said in answer.warnings)


def test_colour_arrays_with_alpha_are_composited():
    rgba = np.zeros((10, 10, 4), "uint8")  # fully transparent black
    assert as_grayscale_stack(rgba).min() == pytest.approx(255)


def test_a_folder_of_folders_says_its_subfolders_are_not_searched(tmp_path):
    from seqmnist_zoo.inputs.images import expand_paths

    (tmp_path / "semeion").mkdir()
    (tmp_path / "semeion" / "a.png").write_bytes(b"")
    with pytest.raises(InvalidArgumentError, match="holds no image files \\(its 1 subfolder"):
        expand_paths([tmp_path])


def test_a_missing_folder_is_named_once(tmp_path):
    from seqmnist_zoo.inputs.preprocess import prepare_each

    [item] = prepare_each([f"{tmp_path}/nosuchdir/"])
    assert str(item.error).count("nosuchdir") == 1, item.error
