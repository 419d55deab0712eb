import wingbeat


def test_package_has_version() -> None:
    assert wingbeat.__version__.count(".") == 2
