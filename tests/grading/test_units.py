"""Fast parts of the pipeline: validate-output parsing, notebook plumbing, leak detection, the
self-test's catalogue checks and mutant attribution, failure reasons, configuration."""

import dataclasses
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nngrade import notebooks
from nngrade.config import REPO_ROOT, Course, failure_reason, load_nbgrader_config
from nngrade.grade import CellScore, longest_first
from nngrade.kernel import GradingExecute
from nngrade.selftest import Alternative, Mutant, Outcome, Report, _Plan, load_catalogue
from nngrade.validate import parse_validate_output

PILOT = Path(__file__).parent / "fixtures" / "pilot"


# --- nbgrader validate output (the texts nbgrader 0.9 prints) --------------------------------------


def test_validate_success():
    verdict = parse_validate_output("Success! Your notebook passes all the tests.\n")
    assert verdict.passed


def test_validate_failure_wrapped_over_lines():
    stdout = ("VALIDATION FAILED ON 2 CELL(S)! If you submit your assignment as it is, you WILL NOT\n"
              "receive full credit.\n\n" + "=" * 80 + "\nThe following cell failed:\n\n    assert f(1) == 2\n")
    verdict = parse_validate_output(stdout)
    assert not verdict.passed and verdict.summary == "2 cell(s) fail their tests"


def test_validate_changed_cells_and_types():
    assert parse_validate_output("THE CONTENTS OF 1 TEST CELL(S) HAVE CHANGED! This might mean")\
        .summary == "1 locked test cell(s) were edited"
    assert not parse_validate_output("THE TYPES OF 3 CELL(S)\nHAVE CHANGED!").passed


def test_validate_invert():
    assert parse_validate_output("Success! The notebook does not pass any tests.\n").passed
    assert not parse_validate_output("NOTEBOOK PASSED ON 1 CELL(S)!\n").passed


def test_validate_without_verdict_or_with_errors_fails():
    assert not parse_validate_output("").passed
    verdict = parse_validate_output("Success! Your notebook passes all the tests.\n",
                                    "[ValidateApp | ERROR] Kernel died while waiting for execute reply.")
    assert not verdict.passed and "Kernel died" in verdict.summary


# --- notebooks ---------------------------------------------------------------------------------------


def graded(cell, grade_id, **flags):
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "task": False,
                                 "grade": False, "solution": False, "locked": False, **flags}
    return cell


def small_source():
    return new_notebook(cells=[
        graded(new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x * 2 + secret_offset\n"
                             "    ### END SOLUTION"), "f", solution=True),
        graded(new_code_cell("assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(10) == 20 + hidden_check\n"
                             "### END HIDDEN TESTS"), "test_f", grade=True, locked=True, points=1),
        graded(new_markdown_cell("Because linear maps compose.\n=== BEGIN MARK SCHEME ===\n1 point: composition\n"
                                 "=== END MARK SCHEME ==="), "written_why", solution=True, grade=True, points=1),
    ])


def test_solution_text_and_fill():
    source = small_source()
    answers = notebooks.solutions_of(source)
    assert answers == {"f": "def f(x):\n    return x * 2 + secret_offset", "written_why": "Because linear maps compose."}
    filled = notebooks.fill(source, {"f": "def f(x):\n    return 0"})
    assert filled.cells[0].source == "def f(x):\n    return 0" and source.cells[0].source.startswith("def f(x):\n    ###")
    with pytest.raises(KeyError, match="test_f"):
        notebooks.fill(source, {"test_f": "pass"})  # test cells are not answers


def test_leaks_in_notebook_and_html(tmp_path):
    source = small_source()
    clean = tmp_path / "clean.html"
    clean.write_text("<pre><span>assert</span> f(1) == 2</pre><p>return x * 2</p>")
    assert notebooks.leaks(notebooks.visible_text(clean), source) == []
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<pre><span class="k">assert</span> f(10) <span>==</span> 20 + hidden_check</pre>'
                     "<pre>return x * 2 + secret_offset</pre>")
    found = notebooks.leaks(notebooks.visible_text(leaky), source)
    assert found == ["solution code present: 'return x * 2 + secret_offset'",
                     "hidden test present: 'assert f(10) == 20 + hidden_check'"]
    assert notebooks.leaks(notebooks.visible_text(leaky), source, solutions=False) == found[1:]
    written = tmp_path / "written.html"
    written.write_text("<p>Because linear maps compose.</p>")
    assert notebooks.leaks(notebooks.visible_text(written), source) == [
        "solution code present: 'Because linear maps compose.'"]
    marker = tmp_path / "marker.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("### BEGIN HIDDEN TESTS")]), str(marker))
    assert notebooks.leaks(notebooks.visible_text(marker), source) == ["hidden test marker present"]


def test_reference_imports():
    notebook = new_notebook(cells=[new_code_cell("import numpy as np\nfrom nnref.layers import affine_forward"),
                                   new_code_cell("  import nngrade.hidden"), new_markdown_cell("import nnref")])
    assert notebooks.reference_imports(notebook) == ["from nnref", "import nngrade"]


def test_hide_test_tracebacks_keeps_only_the_message():
    source = small_source()
    error = new_output("error", ename="AssertionError", evalue="f(x: (3,)) output is wrong",
                       traceback=["Cell In[2], line 3", "assert f(10) == 20 + hidden_check"])
    source.cells[1].outputs = [error]
    student_error = new_output("error", ename="ValueError", evalue="bad", traceback=["line 1", "ValueError: bad"])
    source.cells[0].outputs = [student_error]
    processed, _ = notebooks.HideTestTracebacks().preprocess(source, {})
    assert processed.cells[1].outputs[0].traceback == ["AssertionError: f(x: (3,)) output is wrong"]
    assert processed.cells[0].outputs[0].traceback == ["line 1", "ValueError: bad"]  # the student's own cell


def test_normalise_is_deterministic(tmp_path):
    notebook = small_source()
    notebook.cells[0].execution_count = 7
    notebook.cells[0].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    notebooks.write(notebook, tmp_path / "a.ipynb")
    notebooks.write(nbformat.read(str(tmp_path / "a.ipynb"), as_version=4), tmp_path / "b.ipynb")
    assert (tmp_path / "a.ipynb").read_bytes() == (tmp_path / "b.ipynb").read_bytes()
    text = (tmp_path / "a.ipynb").read_text()
    assert "iopub" not in text and '"execution_count": null' in text and '"id": "test_f"' in text


# --- configuration -------------------------------------------------------------------------------------


def test_config_settings_that_matter():
    config = load_nbgrader_config()
    assert config.OverwriteCells.add_missing_cells is True
    assert config.CourseDirectory.solution_directory == "solutions"
    pattern = config.IgnorePattern.pattern
    warning = "<ipython-input-3>:3: RuntimeWarning: overflow encountered in exp\n  return 1 / (1 + np.exp(-x))\n"
    assert config.IgnorePattern.enabled and re.search(pattern, warning)
    assert not re.search(pattern, "Traceback ...\nAssertionError: sigmoid output is wrong\n")
    assert not re.search(pattern, "  0%|          | 0/10 [00:00<?, ?it/s]")  # a tqdm bar is not a warning


def test_course_discovery_and_timeout(tmp_path):
    shutil.copytree(PILOT, tmp_path, dirs_exist_ok=True)
    (tmp_path / "source" / "notes").mkdir()  # a folder without <name>.ipynb is not an assignment
    course = Course(tmp_path)
    assert course.assignments() == ["pilot"]
    assert course.timeout("pilot") == 60
    notebook = course.source_notebook("pilot")
    notebook.metadata["nncourse"]["timeout"] = 900
    notebooks.write(notebook, course.notebook("source", "pilot"))
    assert course.timeout("pilot") == 900 and course.config("pilot").Execute.timeout == 900
    notebook.cells[0].metadata["nncourse"] = {"timeout": 1200}
    notebooks.write(notebook, course.notebook("source", "pilot"))
    limits = course.cell_limits("pilot")
    assert (limits.default, limits.largest) == (900, 1200) and course.timeout("pilot") == 900


# --- per-cell time limits: the source notebook's, whatever the submission says ---------------------


def limited(cell, seconds):
    cell.metadata["nncourse"] = {"timeout": seconds}
    return cell


def limits_source():
    """A source notebook: default 100 s, a given training cell asking for 300 s, a test cell for 200 s."""
    source = new_notebook(cells=[limited(new_code_cell("train()"), 300),
                                 limited(graded(new_code_cell("check()"), "test_a", grade=True, points=1,
                                                solution=False, locked=True), 200),
                                 graded(new_code_cell("def a(): ..."), "a", grade=False, solution=True, locked=False)])
    source.metadata["nncourse"] = {"timeout": 100}
    return source


def test_cell_limits_come_from_the_source_and_cap_what_the_submission_asks():
    limits = notebooks.CellLimits.of_source(limits_source(), 60)
    assert (limits.default, limits.largest) == (100, 300)
    test_cell, solution_cell = limits_source().cells[1:]
    assert limits.of(limited(test_cell, 5000)) == 200  # a cell of the source: the source's limit
    assert limits.of(limited(solution_cell, 5000)) == 100  # the source's default, not the submission's 5000
    assert limits.of(new_code_cell("train()")) == 100  # lost its metadata: the default
    assert [limits.of(limited(new_code_cell("x"), asked)) for asked in (250, 10_000, 0.2)] == [250, 300, 1]
    for nonsense in ("600", True, -5, float("nan"), float("inf"), None, [600]):
        assert limits.of(limited(new_code_cell("x"), nonsense)) == 100
    weird = new_code_cell("x")
    weird.metadata["nncourse"] = "timeout=600"
    assert limits.of(weird) == 100
    without_default = limits_source()
    del without_default.metadata["nncourse"]
    assert notebooks.CellLimits.of_source(without_default, 60).default == 60
    assert notebooks.notebook_timeout(without_default, 60) == 60 and notebooks.notebook_timeout(limits_source(), 60) == 100


def test_the_grader_ignores_a_timeout_func_reading_the_submissions_metadata():
    execute = GradingExecute(timeout=60, submission_timeout=0, timeout_func=lambda cell: 10_000)
    assert execute._get_timeout(None) == 60
    execute._limits = notebooks.CellLimits.of_source(limits_source(), 60)
    test_cell = limited(limits_source().cells[1], 10_000)
    assert execute._get_timeout(test_cell) == 200
    assert execute._get_timeout(limited(new_code_cell("x"), 10_000)) == 300


def test_grading_runs_each_cell_under_the_sources_limit():
    # Source: default 1 s, the given cell "slow" 4 s. The submission asks 1000 s for every cell.
    source = new_notebook(cells=[limited(new_code_cell("import time\ntime.sleep(2)\nslept = True"), 4),
                                 graded(new_code_cell("print('checked')\ntime.sleep(30)"), "test_a", grade=True,
                                        points=1, solution=False, locked=True)])
    source.metadata["nncourse"] = {"timeout": 1}
    submission = nbformat.from_dict(source)
    submission.cells.insert(1, new_code_cell("time.sleep(30)"))  # a cell the student added
    for cell in submission.cells:
        limited(cell, 1000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.ipynb"
        nbformat.write(source, str(path))
        executed, _ = GradingExecute(timeout=60, source_notebook=str(path)).preprocess(
            submission, {"metadata": {"path": folder}})
    slow, added, test = (cell.outputs for cell in executed.cells)
    assert slow == []  # 2 s: within its own 4 s, over the default
    assert [output.get("ename") for output in added] == ["KeyboardInterrupt", "CellTimeoutError"]  # capped: 4 s
    assert [output.get("ename") for output in test] == ["CellTimeoutError"]
    assert "did not finish in 1 s" in test[0].evalue


def test_parallel_grading_hands_out_the_longest_assignments_first():
    course = Course(REPO_ROOT)
    pairs = [(student, assignment) for assignment in ("01_perceptron", "hw2_mnist_mlp", "hw1_softmax_cross_entropy")
             for student in ("bob", "alice")]
    assert course.timeout("hw2_mnist_mlp") > course.timeout("01_perceptron") == course.timeout("hw1_softmax_cross_entropy")
    assert longest_first(course, pairs) == [
        ("bob", "hw2_mnist_mlp"), ("alice", "hw2_mnist_mlp"), ("bob", "01_perceptron"), ("alice", "01_perceptron"),
        ("bob", "hw1_softmax_cross_entropy"), ("alice", "hw1_softmax_cross_entropy")]


def test_failure_reason_picks_the_specific_exception():
    log = ("[INFO] Converting notebook x.ipynb\n[ERROR] There was an error processing assignment\n"
           "Traceback (most recent call last):\n  File ...\nnbclient.exceptions.DeadKernelError: Kernel died\n"
           "nbgrader.converters.base.NbGraderException: Please see the the above traceback for details\n")
    assert failure_reason(log) == "nbclient.exceptions.DeadKernelError: Kernel died"
    assert failure_reason("[ERROR] No notebooks were matched by 'x'") == "[ERROR] No notebooks were matched by 'x'"


# --- self-test: catalogue checks and attribution of mutants ----------------------------------------------


def test_pilot_catalogue_loads():
    mutants, alternatives = load_catalogue(PILOT / "tests" / "mutants" / "pilot.py")
    assert len(mutants) == 9 and len(alternatives) == 3
    assert mutants[0].fails == ("test_sigmoid",)
    assert Mutant("relu", "d", "s", fails=["test_relu", "test_dense_sigmoid"]).fails == ("test_relu", "test_dense_sigmoid")


def write_catalogue(root: Path, text: str) -> Course:
    shutil.copytree(PILOT / "source", root / "source")
    (root / "tests" / "mutants").mkdir(parents=True)
    (root / "tests" / "mutants" / "pilot.py").write_text(text)
    return Course(root)


def test_catalogue_problems_are_misses(tmp_path):
    course = write_catalogue(tmp_path, (
        "from nngrade.selftest import Mutant, Alternative\n"
        "MUTANTS = [Mutant('sigmoid', 'a', 'x'), Mutant('sigmoid', 'b', 'x'), Mutant('sigmoid', 'c', 'x'),\n"
        "           Mutant('relu', 'd', 'x'), Mutant('nosuchcell', 'e', 'x'), Mutant('relu', 'f', 'x', fails=('test_nope',))]\n"
        "ALTERNATIVES = [Alternative('relu', 'g', 'x')]\n"))
    report = Report("pilot")
    plan = _Plan(course, "pilot", report)
    assert len(plan.mutants) == 4 and len(plan.alternatives) == 1
    assert report.misses == [
        "catalogue entry 'e' names unknown cell(s) ['nosuchcell', 'test_nosuchcell']",
        "catalogue entry 'f' names unknown cell(s) ['test_nope']",
        "only 0 mutant(s) for dense_sigmoid (need 3)",
        "only 1 mutant(s) for relu (need 3)",
    ]
    missing = Report("pilot")
    shutil.rmtree(tmp_path / "tests")
    _Plan(course, "pilot", missing)
    assert missing.misses == ["no mutant catalogue tests/mutants/pilot.py"]


def scores(**lost):
    points = {"test_sigmoid": 2.0, "test_relu": 1.0, "test_dense_sigmoid": 2.0}
    return {cell: CellScore(points[cell] - lost.get(cell, 0.0), points[cell]) for cell in points}


def pilot_plan():
    report = Report("pilot")
    return _Plan(Course(PILOT), "pilot", report), report


def test_bundles_never_hold_two_mutants_of_one_cell():
    plan, _ = pilot_plan()
    assert len(plan.mutant_bundles) == 3
    for bundle in plan.mutant_bundles:
        assert sorted(m.cell for m in bundle) == ["dense_sigmoid", "relu", "sigmoid"]
    students = [job.student for job in plan.first_round()]
    assert students == ["solution", "blank", "alternatives0", "mutants0", "mutants1", "mutants2"]


def first_round_outcomes(**bundles):
    full, zero = scores(), scores(test_sigmoid=2, test_relu=1, test_dense_sigmoid=2)
    outcomes = {"solution": Outcome(full, None, 3.0), "blank": Outcome(zero, None, 2.0),
                "alternatives0": Outcome(full, None, 3.0)}
    for k in range(3):
        outcomes[f"mutants{k}"] = bundles.get(f"mutants{k}", Outcome(zero, None, 3.0))
    return outcomes


def test_clean_bundles_are_attributed_without_reruns():
    plan, report = pilot_plan()
    assert plan.judge_first_round(first_round_outcomes()) == []
    assert (report.mutants_caught, report.mutants_total) == (9, 9)
    assert (report.alternatives_accepted, report.alternatives_total) == (3, 3)
    assert (report.solution_score, report.blank_score, report.points, report.graded_cells) == (5, 0, 5, 3)
    assert report.misses == []


def test_uncaught_mutant_in_a_clean_bundle_is_a_miss():
    plan, report = pilot_plan()
    reruns = plan.judge_first_round(first_round_outcomes(mutants1=Outcome(scores(test_sigmoid=2, test_relu=1), None, 1)))
    assert reruns == [] and report.mutants_caught == 8
    assert report.misses == ["mutant 'column-vector convention W @ X' (dense_sigmoid) keeps full marks in test_dense_sigmoid"]


def test_cross_talk_and_crashes_trigger_single_reruns():
    plan, report = pilot_plan()
    outcomes = first_round_outcomes(
        mutants0=Outcome(scores(test_sigmoid=1), None, 1),  # explained: relu's and dense's mutants missed
        mutants2=Outcome(None, "DeadKernelError: Kernel died", 1),  # unattributable: rerun one by one
    )
    outcomes["alternatives0"] = Outcome(scores(test_relu=1), None, 1)  # relu's alternative is suspect
    reruns = plan.judge_first_round(outcomes)
    assert [job.student for job in reruns] == ["alternative0-1", "mutant2-0", "mutant2-1", "mutant2-2"]
    assert report.mutants_caught == 1 + 3
    assert report.alternatives_accepted == 2
    alone = {
        "alternative0-1": scores(test_relu=1),
        "mutant2-0": scores(test_sigmoid=2, test_relu=1),  # cross-talk: not caught
        "mutant2-1": scores(test_relu=1), "mutant2-2": scores(test_dense_sigmoid=2),
    }
    for job in reruns:
        plan.judge_rerun(job, Outcome(alone[job.student], None, 1))
    assert report.alternatives_accepted == 2
    assert report.mutants_caught == 4 + 2
    assert report.misses == [
        "mutant 'absolute value' (relu) keeps full marks in test_relu",
        "mutant 'bias forgotten' (dense_sigmoid) keeps full marks in test_dense_sigmoid",
        "alternative 'mask multiplication' (relu) loses points in test_relu",
        "mutant 'scales the input in place' (sigmoid) also loses points in test_relu",
    ]


def test_cells_the_solution_fails_are_not_evidence():
    plan, report = pilot_plan()
    outcomes = first_round_outcomes()
    outcomes["solution"] = Outcome(scores(test_relu=1), None, 3.0)
    outcomes["alternatives0"] = Outcome(scores(test_relu=1), None, 3.0)
    assert plan.judge_first_round(outcomes) == []
    assert (report.mutants_caught, report.alternatives_accepted, report.solution_score) == (6, 3, 4)
    assert report.misses == ["solution loses points in test_relu"] + [
        f"mutant {m.description!r} (relu) cannot be judged: the solution already loses points in test_relu"
        for m in plan.mutants if m.cell == "relu"]


def test_alternative_bundle_with_unexplained_loss_reruns_every_member():
    plan, report = pilot_plan()
    outcomes = first_round_outcomes()
    outcomes["alternatives0"] = Outcome(None, "CellTimeoutError", 1)
    reruns = plan.judge_first_round(outcomes)
    assert [job.student for job in reruns] == ["alternative0-0", "alternative0-1", "alternative0-2"]
    for job in reruns:
        plan.judge_rerun(job, Outcome(scores(), None, 1))
    assert (report.alternatives_accepted, report.misses) == (3, [])


def test_alternative_dataclass():
    assert Alternative("relu", "mask", "def relu(x): ...").cell == "relu"


def test_a_cell_shared_by_bundle_members_is_judged_for_the_bundle():
    plan, report = pilot_plan()
    by_cell = {m.cell: m for m in plan.mutants}
    # like homework 2: a bug in either layer also fails an accuracy gate downstream of both
    members = [dataclasses.replace(by_cell[cell], fails=(f"test_{cell}", "test_dense_sigmoid"))
               for cell in ("sigmoid", "relu")]
    plan.mutant_bundles = [members]
    outcomes = first_round_outcomes()
    assert plan.judge_first_round(outcomes) == []
    assert report.mutants_caught == 2 and report.misses == []
    # the gate keeps its points: nothing says which member should have failed it, so both re-run alone
    plan, report = pilot_plan()
    plan.mutant_bundles = [members]
    outcomes = first_round_outcomes(mutants0=Outcome(scores(test_sigmoid=2, test_relu=1), None, 1))
    assert [job.student for job in plan.judge_first_round(outcomes)] == ["mutant0-0", "mutant0-1"]
    # a member whose every expected cell is shared cannot be attributed in the bundle either
    plan, report = pilot_plan()
    plan.mutant_bundles = [members + [dataclasses.replace(by_cell["dense_sigmoid"], fails=("test_dense_sigmoid",))]]
    assert len(plan.judge_first_round(first_round_outcomes())) == 3


def test_question_above_a_marked_written_answer_is_not_a_leak():
    source = new_notebook(cells=[graded(new_markdown_cell(
        "Explain why XOR needs a hidden layer.\n### BEGIN SOLUTION\nNo single line separates the classes.\n"
        "### END SOLUTION"), "written_xor", solution=True, grade=True, points=2)])
    release = "Explain why XOR needs a hidden layer.\nYOUR ANSWER HERE"
    assert notebooks.leaks(release, source) == []
    assert notebooks.leaks(release + "\nNo single line separates the classes.", source) == [
        "solution code present: 'No single line separates the classes.'"]


def test_selftest_skips_only_the_assignments_whose_data_set_is_missing(monkeypatch, tmp_path):
    from nngrade.selftest import _missing_data

    monkeypatch.setenv("NNCOURSE_MNIST_DIR", str(tmp_path / "no-mnist-here"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no user cache, no config file
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    missing = _missing_data(Course(REPO_ROOT), ["01_perceptron", "hw2_mnist_mlp"])
    assert list(missing) == ["hw2_mnist_mlp"]
    assert "NNCOURSE_MNIST_DIR" in missing["hw2_mnist_mlp"] and "no-mnist-here" in missing["hw2_mnist_mlp"]
