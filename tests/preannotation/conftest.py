import pytest


@pytest.fixture(autouse=True)
def _forget_finished_jobs():
    """The worker-process cache of finished job ids must not leak from one test's database into another's."""
    from annotations.services import preannotation

    preannotation._FINISHED_HERE.clear()
    yield
    preannotation._FINISHED_HERE.clear()
