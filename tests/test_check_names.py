"""relreps._validation.check_names: user-typed name lists (a string or a sequence)."""

from __future__ import annotations

import pytest

from relreps._validation import check_names

OPTIONS = ("trec", "dbpedia14", "amazon_reviews_multi")


@pytest.mark.parametrize(
    "value",
    [
        "dbpedia14,trec",
        " dbpedia14 , trec ",
        "dbpedia14,,trec,",
        ("dbpedia14", "trec"),
        [" dbpedia14", "", "trec "],
        iter(["dbpedia14", "trec"]),
    ],
)
def test_string_or_sequence_gives_the_names_in_the_order_given(value) -> None:
    assert check_names(value, "--text-datasets", OPTIONS) == ("dbpedia14", "trec")


@pytest.mark.parametrize("value", ["", " , ", (), [], ["", "  "]])
def test_empty_gives_no_names(value) -> None:
    assert check_names(value, "--text-datasets", OPTIONS) == ()


def test_unknown_name_lists_the_options() -> None:
    with pytest.raises(ValueError) as err:
        check_names("trec,imdb", "--text-datasets", OPTIONS)
    assert str(err.value) == (
        "Expected `--text-datasets` to be one of ['trec', 'dbpedia14', 'amazon_reviews_multi'], "
        "but got 'imdb'."
    )


def test_names_are_case_sensitive() -> None:
    with pytest.raises(ValueError, match="'TREC'"):
        check_names("TREC", "--text-datasets", OPTIONS)


def test_duplicates_are_refused_even_when_spelled_with_blanks() -> None:
    with pytest.raises(ValueError, match="distinct names, but got 'trec' twice"):
        check_names("trec, dbpedia14, trec ", "--text-datasets", OPTIONS)


def test_all_means_every_option_only_when_allowed() -> None:
    assert check_names("all", "--planetoid", OPTIONS, allow_all=True) == OPTIONS
    assert check_names([" all "], "--planetoid", OPTIONS, allow_all=True) == OPTIONS
    with pytest.raises(ValueError, match="'all'"):
        check_names("all", "--planetoid", OPTIONS)
    with pytest.raises(ValueError, match="'all'"):  # "all" beside other names is not special
        check_names("all,trec", "--planetoid", OPTIONS, allow_all=True)


def test_other_separator() -> None:
    assert check_names("trec:dbpedia14", "--x", OPTIONS, sep=":") == ("trec", "dbpedia14")
    with pytest.raises(ValueError, match="'trec:dbpedia14'"):
        check_names("trec:dbpedia14", "--x", OPTIONS)


def test_options_may_be_any_iterable_and_results_are_the_options() -> None:
    options = {"de": 0, "fr": 1}  # a mapping's keys
    assert check_names("fr", "--amazon-languages", options) == ("fr",)
    assert check_names("fr", "--amazon-languages", iter(["de", "fr"])) == ("fr",)


@pytest.mark.parametrize("value", [None, 3, ["trec", 3], [b"trec"]])
def test_non_strings_are_type_errors(value) -> None:
    with pytest.raises(TypeError, match="--text-datasets"):
        check_names(value, "--text-datasets", OPTIONS)
