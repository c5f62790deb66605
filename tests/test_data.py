import pandas as pd
import pytest

from headbench.config import DataParams, ParamError, CVParams
from headbench.data.table import DataError, load_dataset
from headbench.data.folds import make_folds

P = DataParams(path="x", id_col="id", text_col="excerpt", target_col="target")
GOOD = "id,excerpt,target\na,One text here.,0.5\nb,Another text.,-1.0\nc,Third one.,0.1\n"


def write(tmp_path, content, name="in.csv"):
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


@pytest.mark.parametrize(
    "content, pattern",
    [
        ("", "file is empty"),
        ("id,excerpt,target\n", "header but no data rows"),
        ("id,text,target\na,x,1\n", r"missing column\(s\) \['excerpt'\]"),
        ("id,excerpt,target\na,hello,1\nb,,2\n", "column 'excerpt' has empty or whitespace-only text in data row 2"),
        ("id,excerpt,target\na,hello,1\nb,   ,2\n", "empty or whitespace-only text in data row 2"),
        ("id,excerpt,target\na,hello,1\nb,world,\n", "column 'target' has missing .NaN. or infinite targets in data row 2"),
        ("id,excerpt,target\na,hello,1\nb,world,NaN\n", "missing .NaN."),
        ("id,excerpt,target\na,hello,1\nb,world,easy\n", "column 'target' has non-numeric values .'easy'. in data row 2"),
        ("id,excerpt,target\na,hello,1\na,world,2\n", "column 'id' has duplicate ids \\['a'\\]"),
        ("id,excerpt,target\na,hello,1\nb,hello,2\n", "column 'excerpt' has duplicate texts in data rows 1, 2"),
        ('id,excerpt,target\na,"unclosed,1\nb,x,2\n', "malformed CSV|missing|non-numeric|no data"),
        (b"id,excerpt,target\na,caf\xe9,1\n", "not UTF-8 text .invalid byte at offset"),
    ],
)
def test_bad_input_is_named(tmp_path, content, pattern):
    path = write(tmp_path, content)
    with pytest.raises(DataError, match=pattern) as err:
        load_dataset(P, path=path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_dataset(P, path=tmp_path / "absent.csv")


def test_bom_and_windows_line_endings_are_accepted(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    df = load_dataset(P, path=path)
    assert list(df["id"]) == ["a", "b", "c"] and df["target"].tolist() == [0.5, -1.0, 0.1]
    assert df["text"].iloc[0] == "One text here."


def test_extra_columns_ignored_and_target_optional(tmp_path):
    path = write(tmp_path, "id,url,excerpt\na,u,Text one.\nb,v,Text two.\n")
    df = load_dataset(P, require_target=False, path=path)
    assert list(df.columns) == ["id", "text"]


def test_many_bad_rows_are_listed_briefly(tmp_path):
    rows = "".join(f"r{i},,{i}\n" for i in range(20))
    with pytest.raises(DataError, match="data rows 1, 2, 3, 4, 5 and 15 more"):
        load_dataset(P, path=write(tmp_path, "id,excerpt,target\n" + rows))


def frame(n, seed=0, groups=None):
    rng = pd.Series(range(n)).sample(frac=1, random_state=seed).to_numpy()
    df = pd.DataFrame({"id": [f"i{i}" for i in range(n)], "text": [f"t{i}" for i in range(n)], "target": rng / n})
    if groups:
        df["group"] = [f"g{i % groups}" for i in range(n)]
    return df


def test_folds_are_deterministic_and_stratified():
    cv = CVParams(n_folds=5, folds=(0, 1, 2, 3, 4), n_bins=10, seed=42)
    df = frame(500)
    a, b = make_folds(df, cv), make_folds(df, cv)
    assert a.equals(b)
    assert sorted(a["fold"].value_counts()) == [100] * 5
    means = df.assign(fold=a["fold"]).groupby("fold")["target"].mean()
    assert means.max() - means.min() < 0.03  # every fold spans the target range evenly
    other = make_folds(df, CVParams(5, (0,), 10, seed=7))
    assert not a["fold"].equals(other["fold"])


def test_groups_stay_in_one_fold():
    cv = CVParams(n_folds=4, folds=(0, 1, 2, 3), n_bins=5, seed=0)
    df = frame(200, groups=30)
    folds = make_folds(df, cv)
    assert df.assign(fold=folds["fold"]).groupby("group")["fold"].nunique().max() == 1


def test_more_folds_than_rows_is_an_error():
    with pytest.raises(ParamError, match="cv.n_folds.*more than the 3 rows"):
        make_folds(frame(3), CVParams(5, (0,), 2, 0))


def test_a_text_or_id_that_pandas_reads_as_missing_is_kept_as_written(tmp_path):
    """EmoBank has a sentence that is the word None; "NA" and "null" are words too."""
    path = write(tmp_path, "id,excerpt,target\nNA,None,0.5\nb,null,1.0\nc,NA,0.1\nd,n/a,0.2\n")
    df = load_dataset(P, path=path)
    assert df["id"].tolist() == ["NA", "b", "c", "d"] and df["text"].tolist() == ["None", "null", "NA", "n/a"]
    with pytest.raises(DataError, match="missing .NaN."):   # a target still reads NA as missing
        load_dataset(P, path=write(tmp_path, "id,excerpt,target\na,x,1\nb,y,NA\n"))


def test_duplicate_texts_are_refused_or_dropped_with_a_warning(tmp_path):
    from headbench.errors import ParamError
    from headbench.config import parse, read_yaml
    from conftest import ROOT

    path = tmp_path / "d.csv"
    path.write_text("id,excerpt,target\na,Sincerely,1\nb,Sincerely,2\nc,Dear Sir,3\nd,P.S.,4\n")
    with pytest.raises(DataError, match=r"duplicate texts in data rows 1, 2.*data.duplicate_texts: drop"):
        load_dataset(DataParams(str(path), "id", "excerpt", "target"))
    with pytest.warns(UserWarning, match=r"dropped 2 rows whose text occurs more than once \(1 texts"):
        df = load_dataset(DataParams(str(path), "id", "excerpt", "target", duplicate_texts="drop"))
    assert df["id"].tolist() == ["c", "d"]
    scored = load_dataset(DataParams(str(path), "id", "excerpt", "target", duplicate_texts="drop"), require_target=False)
    assert scored["id"].tolist() == ["a", "b", "c", "d"]  # a file to score keeps every row
    raw = read_yaml(ROOT / "params.yaml")
    raw["data"]["duplicate_texts"] = "group"
    with pytest.raises(ParamError, match=r"data.duplicate_texts.*one of \['error', 'drop'\]"):
        parse(raw)
