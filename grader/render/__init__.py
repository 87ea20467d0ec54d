"""Rendering: the only package that imports Rich. quiz.py renders quiz and bank output;
submit.py renders grading results."""
