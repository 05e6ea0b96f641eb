"""test_package.py: the Python package (python/forgetlab) against the CLI:
its version is the CLI's; divergences() equals `forgetlab measure
--base-logits --logits` to 1e-6 relative on random logits, and NumPy's own
forward KL; environment() names the kernels as `forgetlab env` does and
warns of a fallback core; the library's notices go to `logging`; bad input (another shape, a NaN, strings, three dimensions)
raises ValueError saying what is wrong."""
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import forgetlab

CLI = os.environ.get("FORGETLAB_CLI", os.path.join(os.path.dirname(__file__), "..", "..", "build", "forgetlab"))


class TestPackage(unittest.TestCase):
    def setUp(self):
        r = np.random.default_rng(7)
        self.a = r.normal(size=(300, 10)).astype(np.float32)
        self.b = (self.a + r.normal(scale=0.7, size=self.a.shape)).astype(np.float32)

    def test_version(self):
        out = subprocess.run([CLI, "--version"], capture_output=True, text=True, check=True).stdout
        self.assertIn(forgetlab.__version__, out)

    def test_divergences_equal_measure(self):
        d = forgetlab.divergences(self.a, self.b)
        with tempfile.TemporaryDirectory() as t:
            np.save(os.path.join(t, "a.npy"), self.a)
            np.save(os.path.join(t, "b.npy"), self.b)
            out = subprocess.run([CLI, "measure", "--base-logits", os.path.join(t, "a.npy"), "--logits",
                                  os.path.join(t, "b.npy")], capture_output=True, text=True, check=True).stdout
        m = json.loads(out)
        for k, v in d.items():
            self.assertLessEqual(abs(v - m[k + "_new"]), 1e-6 * max(abs(v), 1e-12), k)
        p = np.exp(self.a - np.logaddexp.reduce(self.a.astype(np.float64), 1, keepdims=True))
        q = np.exp(self.b - np.logaddexp.reduce(self.b.astype(np.float64), 1, keepdims=True))
        self.assertAlmostEqual(d["forward_kl"], float((p * (np.log(p) - np.log(q))).sum(1).mean()), places=6)
        self.assertEqual(forgetlab.divergences(self.a, self.a)["forward_kl"], 0.0)

    def test_environment(self):
        """The kernels and CPU as the CLI's `env` names them; a fallback core
        (simulated as in tests/e2e/blas_core.sh) is warned about, naming the
        core to set, and the user's own setting is not."""
        env = forgetlab.environment()
        cli = json.loads(subprocess.run([CLI, "env", "--json"], capture_output=True, text=True, check=True).stdout)
        # "blas" itself may differ: NumPy loads its own OpenBLAS (pthreads) first,
        # and the first loaded serves both.
        for k in ("blas_core", "blas_core_best", "cpu_features", "cpu"):
            self.assertEqual(env[k], cli[k], k)
        self.assertEqual(env["blas_core_suggested"], "")
        probe = "import logging, forgetlab; logging.basicConfig(); forgetlab.environment()"
        run = dict(os.environ, OPENBLAS_CORETYPE="Prescott")
        user = subprocess.run(["/usr/bin/python3", "-c", probe], env=run, capture_output=True, text=True, check=True)
        self.assertNotIn("OPENBLAS_CORETYPE=", user.stderr)
        run["FORGETLAB_BLAS_TEST_FALLBACK"] = "1"
        fell = subprocess.run(["/usr/bin/python3", "-c", probe], env=run, capture_output=True, text=True, check=True)
        if env["blas_core_best"]:
            self.assertIn("runs its Prescott kernels", fell.stderr)
            self.assertIn("OPENBLAS_CORETYPE=%s" % env["blas_core_best"], fell.stderr)

    def test_log_to_logging(self):
        """The library's notices reach the "forgetlab" logger, not stderr."""
        with self.assertLogs("forgetlab", level="WARNING") as logs:
            n = forgetlab.set_threads(100000)
        forgetlab.set_threads(0)
        self.assertGreaterEqual(n, 1)
        self.assertTrue(any("threads asked for" in m for m in logs.output), logs.output)

    def test_bad_input(self):
        bad = self.b.copy()
        bad[2, 3] = np.nan
        cases = [(self.a, self.b[:, :9], "shape"), (self.a, bad, "non-finite"),
                 (self.a.astype(str), self.b, "dtype"), (self.a[None], self.b[None], "shape")]
        for z0, z1, word in cases:
            with self.assertRaises(ValueError) as e:
                forgetlab.divergences(z0, z1)
            self.assertIn(word, str(e.exception))


if __name__ == "__main__":
    unittest.main()
