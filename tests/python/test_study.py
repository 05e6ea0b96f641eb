"""test_study.py: forgetlab.study on a study directory written by hand:
the columns (numbers with NaN for empty fields, text kept as text), the
kind from results.sqlite, the fitted curve evaluated inside its range and
NaN outside it, and the errors (no results.csv, a ragged row, an unknown
predictor). The same on a real `study razor --quick` is in
tests/e2e/razor_quick.sh."""
import os
import shutil
import sqlite3
import tempfile
import unittest

import numpy as np

import forgetlab


class TestStudy(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp()
        self.write("results.csv", "run_id,method,forward_kl_new,forgetting\nr1,sft1,0.5,0.2\nr2,grpo,,0.1\n")
        self.write("predictors.csv", "predictor,r2,n,side,fit_c0,fit_c1,fit_c2,x_min,x_max\n"
                   "forward_kl_new,0.9,2,new,0.01,0.2,0.3,0.1,2\n")
        con = sqlite3.connect(os.path.join(self.d, "results.sqlite"))
        con.execute("CREATE TABLE study (key TEXT PRIMARY KEY, value TEXT)")
        con.execute("INSERT INTO study VALUES ('kind', 'lm'), ('grid', 'g')")
        con.commit()
        con.close()

    def tearDown(self):
        shutil.rmtree(self.d)

    def write(self, name, text):
        with open(os.path.join(self.d, name), "w") as f:
            f.write(text)

    def test_columns_and_curve(self):
        s = forgetlab.study(self.d)
        self.assertEqual(s.kind, "lm")
        self.assertEqual(list(s.checkpoints["method"]), ["sft1", "grpo"])
        kl = s.checkpoints["forward_kl_new"]
        self.assertEqual(kl.dtype, np.float64)
        self.assertEqual(kl[0], 0.5)
        self.assertTrue(np.isnan(kl[1]))
        self.assertIsNone(s.frontier)
        self.assertEqual(s.predictor()["r2"], 0.9)
        got = s.predict_forgetting([0.5, 1.0, 3.0, 0.05])
        np.testing.assert_allclose(got[:2], [0.01 + 0.1 + 0.075, 0.01 + 0.2 + 0.3])
        self.assertTrue(np.isnan(got[2]) and np.isnan(got[3]))
        df = s.df
        if df is not None:
            self.assertEqual(len(df), 2)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "predictor 'cka'"):
            forgetlab.study(self.d).predict_forgetting(0.1, predictor="cka")
        self.write("results.csv", "a,b\n1,2\n3\n")
        with self.assertRaisesRegex(ValueError, "line 3"):
            forgetlab.study(self.d)
        os.remove(os.path.join(self.d, "results.csv"))
        with self.assertRaisesRegex(FileNotFoundError, "no results.csv"):
            forgetlab.study(self.d)


if __name__ == "__main__":
    unittest.main()
