#!/usr/bin/env python3
"""golden.py's own rules: which differences a docs block may have (only 10_train's timing
columns), and how a block's spec reads. Run by meson as `golden_rules`."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden import Block, mask_timing  # noqa: E402

RUN = """epoch  train cost  train acc  test cost  test acc   seconds  samples/s
    1      1.9713     0.7002     1.1093    0.8478      5.00       9794
    2      0.8808     0.8711     0.7384    0.8860      5.26      19319

    3      0.6633     0.8949     0.6156    0.8990      3.98      12299
"""


class Timing(unittest.TestCase):
    def test_the_timing_columns_may_differ(self):
        other = RUN.replace("5.00       9794", "12.31      3981").replace("19319", " 7000")
        self.assertEqual(mask_timing(RUN), mask_timing(other))

    def test_every_other_number_may_not(self):
        for old, new in [("0.7002", "0.7003"), ("1.1093", "1.1094"), ("    2 ", "    7 ")]:
            self.assertNotEqual(mask_timing(RUN), mask_timing(RUN.replace(old, new)), new)

    def test_the_table_ends_at_a_blank_line(self):
        self.assertNotEqual(mask_timing(RUN), mask_timing(RUN.replace("12299", "12298")))

    def test_without_the_header_nothing_is_masked(self):
        body = RUN.split("\n", 1)[1]
        self.assertEqual(mask_timing(body), body)


class Spec(unittest.TestCase):
    def test_a_lab_that_fails(self):
        b = Block("lab_05 --trace | grep -F 'grad Z1 +=' ; status: 1")
        self.assertEqual((b.name, b.args, b.grep, b.status),
                         ("lab_05", ["--trace"], "grad Z1 +=", 1))
        self.assertTrue(b.render("x\n").startswith("```text\n$ build/labs/lab_05 --trace | grep"))
        self.assertEqual(Block("01_neuron").status, 0)
        with self.assertRaises(ValueError):
            Block("lab_05; status: one")

    def test_a_plain_command(self):
        b = Block("12_recipes --jobs 2")
        self.assertEqual((b.name, b.args, b.grep, b.lines, b.after),
                         ("12_recipes", ["--jobs", "2"], None, None, None))

    def test_filters_and_after(self):
        b = Block("11_evaluate --split standard | grep -F 'a b' | lines 2-3 ; after: 10_train --x 1")
        self.assertEqual((b.name, b.args, b.grep, b.lines, b.after),
                         ("11_evaluate", ["--split", "standard"], "a b", (2, 3),
                          ("10_train", ["--x", "1"])))
        self.assertEqual(b.render("a b 1\nc\na b 2\na b 3\na b 4\n"),
                         "```text\n$ build/tutorials/11_evaluate --split standard | grep -F 'a b'\n"
                         "...\na b 2\na b 3\n...\n```\n")

    def test_a_bar_inside_quotes_is_text(self):
        b = Block('11_evaluate | grep -F "a|b" | lines 2-')
        self.assertEqual((b.args, b.grep, b.lines), ([], "a|b", (2, None)))

    def test_keys_are_printf_s_format_on_stdin(self):
        b = Block(r"01_neuron --step | lines 2- ; keys: p\n\nq\\\n")
        self.assertEqual(b.stdin(), "p\n\nq\\\n")
        self.assertEqual(b.render("a\nb\n"), "```text\n$ printf 'p\\n\\nq\\\\\\n' | "
                         "build/tutorials/01_neuron --step\n...\nb\n```\n")
        self.assertEqual(Block("01_neuron").stdin(), "")

    def test_lines_marks_only_what_it_leaves_out(self):
        out = "1\n2\n3\n"
        shown = {span: Block("01_neuron | lines " + span).render(out).split("\n")[2:-2]
                 for span in ["1-3", "1-2", "2-3", "2-", "1-9"]}
        self.assertEqual(shown, {"1-3": ["1", "2", "3"], "1-2": ["1", "2", "..."],
                                 "2-3": ["...", "2", "3"], "2-": ["...", "2", "3"],
                                 "1-9": ["1", "2", "3"]})

    def test_anything_else_is_an_error(self):
        for spec in ["", "10_train | sort", "10_train | lines x", "10_train | lines 3-2",
                     "10_train | lines 0-2", "10_train | lines 1-2 | grep -F a",
                     "10_train | head -n 3", "11_evaluate ; before: 10_train", "11_evaluate ; after:",
                     "01_neuron ; keys: a b", "01_neuron ; keys: a ; keys: b", "10_train |",
                     "10_train | | lines 1-2", "01_neuron ; keys: a%d", r"01_neuron ; keys: a\t",
                     "01_neuron ; keys: it's"]:
            with self.assertRaises(ValueError, msg=spec):
                Block(spec)


if __name__ == "__main__":
    unittest.main()
