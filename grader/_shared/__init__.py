"""Helpers the hidden suites share, imported as `from _shared.NAME import ...`.

Only the judge sees this folder (it lies under grader/, hidden from learner code like the suites).
"""
