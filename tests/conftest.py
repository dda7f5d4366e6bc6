"""Settings for the whole suite."""

# Hypothesis's pytest plugin imports hypothesis at the end of a session that has not used it, and
# pytest then rewrites its modules with ast.parse. On CPython 3.11, ast.parse can fail with
# "AST constructor recursion depth mismatch" after a test has unwound a deep exception (Pulumi's
# engine errors do). Importing it here, during collection, keeps that rewrite ahead of any test.
import hypothesis  # noqa: F401
