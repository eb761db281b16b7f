"""The course's nbgrader pipeline (instructors only; never installed for students).

``python -m nngrade release|grade|check|demo|validate`` (see ``__main__``) drives nbgrader for the
whole course; ``nngrade.hidden`` holds the helpers the hidden tests call. docs/grading.md explains it.
"""
