#!/usr/bin/env python3
"""check_try_this.py's own rules, on pages written here: an answer per exercise, and no answer
run that writes where later blocks and docs/images read. Run by meson as `try_this_rules`."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_try_this import body_runs, check_page, SUMMARY  # noqa: E402

BODY = """# 10 · a page

<!-- output: 10_train -->
<!-- end output -->

<!-- output: 10_train --recipe article --out out_article -->
<!-- end output -->

## Try this

1. An exercise.

<details><summary>Answer</summary>

Why.

<!-- output: {spec} -->
<!-- end output -->

</details>
"""
# What the blocks outside the Try-this sections run (check_try_this's body_runs).
SHARED = {("10_train", ()), ("10_train", ("--recipe", "article", "--out", "out_article"))}


def problems(spec):
    """check_page's problems for the page above with the answer's block running `spec`."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "10_train.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write(BODY.replace("{spec}", spec))
        return check_page(path, SUMMARY["docs"], SHARED)


class WritesWhereRead(unittest.TestCase):
    def test_own_folders_pass(self):
        for spec in ["10_train --lr 0.03 --no-plots --out out_try10 | lines 10-15",
                     "11_evaluate --worst 20 --no-plots | grep -F 'test image' ; after: 10_train",
                     "10_train",  # the body's run: written once
                     "09_gradcheck --model out_try09/model.npz ; after: 10_train --epochs 1 "
                     "--no-plots --out out_try09",
                     "11_evaluate --model out_article/model.npz --no-plots ; after: 10_train "
                     "--recipe article --out out_article",  # the body's run: written once
                     "12_recipes --epochs 2 --no-plots --out out_try12"]:
            self.assertEqual(problems(spec), [], spec)

    def test_runs_into_out_or_out_article_fail(self):
        for spec, run in [
                ("10_train --lr 0.03 --no-plots | lines 10-15", "10_train --lr 0.03 --no-plots"),
                ("11_evaluate --worst 20 | grep -F 'test image'", "11_evaluate --worst 20"),
                ("09_gradcheck --model out_article/model.npz ; after: 10_train --epochs 1 "
                 "--out out_article/", "10_train --epochs 1 --out out_article/"),
                ("12_recipes --epochs 2 --no-plots --out out", "12_recipes --epochs 2"),
                ("13_your_network --out out_article", "13_your_network --out out_article")]:
            found = problems(spec)
            self.assertEqual(len(found), 1, (spec, found))
            self.assertIn(f"exercise 1: '{run}", found[0])
            self.assertIn("give it --no-plots and its own --out", found[0])


class BodyRuns(unittest.TestCase):
    def test_the_blocks_outside_the_try_this_section(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "10_train.md")
            with open(path, "w", encoding="utf-8") as f:
                f.write(BODY.replace("{spec}", "10_train --lr 0.03") + "\n## After\n\n"
                        "<!-- output: 11_evaluate ; after: 10_train --epochs 1 -->\n"
                        "<!-- end output -->\n")
            self.assertEqual(body_runs([path]), SHARED | {("11_evaluate", ()),
                                                          ("10_train", ("--epochs", "1"))})


class Answers(unittest.TestCase):
    def test_an_answer_without_output_fails(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "10_train.md")
            with open(path, "w", encoding="utf-8") as f:
                f.write(BODY.replace("<!-- output: {spec} -->\n<!-- end output -->\n", ""))
            found = check_page(path, SUMMARY["docs"], SHARED)
        self.assertEqual(len(found), 1, found)
        self.assertIn("shows no program output", found[0])


if __name__ == "__main__":
    unittest.main()
