"""Reference modules: the truth the judge compares against, run in float64.

Imported only by the trusted judge after the child's answers are in; the zygote and the child never
import this package (the sandbox also makes it unreadable to the child).

May import: nothing of dlprep
Must not be imported by: the zygote or the child (never held there; unreadable to the child).
"""
