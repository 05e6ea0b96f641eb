"""test_models.py: the package's models, circuits and safetensors against
the CLI on the same inputs. A small MLP is pretrained once: load().logits
equals `eval --logits-out` on the inputs `eval --inputs-out` wrote, and a
forward pass written in NumPy from .weights; edited weights change the
saved model; safetensors files go both ways between the pure-NumPy module
and the C reader (with and without forgetlab's metadata); measure() equals
`forgetlab measure`; circuits()
equals `forgetlab circuits` (scores, vectors, Spearman, CS, its random
baseline) on the examples it wrote, for KL / AP-IG within classes and CE /
plain AP with counterfactuals on ParityMNIST; a language model's logits
give `sample --json`'s log-probabilities, a grok transformer's have its
shape; bad input raises."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

import forgetlab

CLI = os.environ.get("FORGETLAB_CLI", os.path.join(os.path.dirname(__file__), "..", "..", "build", "forgetlab"))


def cli(*args):
    return subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True, check=True).stdout


def mlp_forward(w, x):
    """The MLP in NumPy (float64): Linear, ReLU, ..., Linear."""
    h, n = x.astype(np.float64), len([k for k in w if k.endswith(".weight")])
    for i in range(n):
        h = h @ w["layers.%d.weight" % i].T.astype(np.float64) + w["layers.%d.bias" % i]
        if i < n - 1:
            h = np.maximum(h, 0)
    return h


class TestModels(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = tempfile.mkdtemp()
        cls.base = os.path.join(cls.t, "base")
        cli("pretrain", "--per-task", 100, "--epochs", 1, "--model", "785-32-16-10", "--threads", 1, "--out", cls.base)
        cls.f = {k: os.path.join(cls.t, k + ".npy") for k in ("logits", "inputs", "labels")}
        cli("eval", "--model", cls.base, "--task", "fashion", "--threads", 1, "--logits-out", cls.f["logits"],
            "--inputs-out", cls.f["inputs"], "--labels-out", cls.f["labels"])
        cls.m = forgetlab.load(cls.base)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.t)

    def test_logits_equal_eval_and_numpy(self):
        x, z = np.load(self.f["inputs"]), np.load(self.f["logits"])
        self.assertEqual(x.shape, (10000, 785))
        got = self.m.logits(x)
        self.assertEqual(got.dtype, np.float32)
        np.testing.assert_allclose(got, z, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got[:500], mlp_forward(self.m.weights, x[:500]), rtol=1e-4, atol=1e-4)
        self.assertEqual(self.m.arch, "mlp")
        self.assertEqual((self.m.input_size, self.m.output_size), (785, 10))
        self.assertIn("lr", self.m.config)

    def test_weights_edit_and_save(self):
        with forgetlab.load(self.base) as m:
            w = m.weights
            self.assertEqual([k for k in w], ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                              "layers.2.weight", "layers.2.bias"])
            self.assertEqual(w["layers.0.weight"].shape, (32, 785))
            x = np.load(self.f["inputs"])[:200]
            before = m.logits(x)
            w["layers.2.weight"][:] *= 0.5  # the model's own memory
            after = m.logits(x)
            self.assertFalse(np.allclose(before, after))
            out = os.path.join(self.t, "edited.safetensors")
            m.save(out)
            np.testing.assert_array_equal(forgetlab.load(out).logits(x), after)
            w["layers.0.bias"][3] = np.nan
            with self.assertRaisesRegex(forgetlab.ForgetlabError, r"layers\.0\.bias\[3\] is not finite"):
                m.save(os.path.join(self.t, "nan.safetensors"))

    def test_measure_equals_cli(self):
        tuned = os.path.join(self.t, "tuned.safetensors")
        with forgetlab.load(self.base) as m:
            m.weights["layers.1.weight"][:] *= 0.8
            m.weights["layers.2.bias"][:] += 0.3
            m.save(tuned)
        want = json.loads(cli("measure", "--base", self.base, "--model", tuned, "--fisher-n", 300, "--threads", 1))
        forgetlab.set_threads(1)
        got = forgetlab.measure(self.base, tuned, fisher_n=300)
        self.assertEqual(set(got), set(want))
        for k, v in want.items():
            if isinstance(v, list):
                self.assertEqual(got[k], v, k)
            elif v is not None:
                self.assertLessEqual(abs(got[k] - v), 1e-9 * max(1.0, abs(v)), k)
        self.assertGreater(got["forward_kl_new"], 0)
        with self.assertRaisesRegex(ValueError, "fisher_n"):
            forgetlab.measure(self.base, tuned, fisher_n=0)

    def test_safetensors_both_ways(self):
        path = os.path.join(self.base, "model.safetensors")
        tensors, meta = forgetlab.safetensors.load(path, metadata=True)
        self.assertEqual(meta["arch"], "mlp")
        self.assertEqual(meta["spec"], "785-32-16-10")
        for k, v in self.m.weights.items():
            np.testing.assert_array_equal(tensors[k], v)
        x = np.load(self.f["inputs"])[:300]
        want = self.m.logits(x)
        # Pure NumPy writes, C reads: with forgetlab's metadata, and as a bare PyTorch-style file.
        for name, md in (("with_meta", meta), ("bare", None)):
            p = os.path.join(self.t, name + ".safetensors")
            forgetlab.safetensors.save(p, tensors, metadata=md)
            np.testing.assert_array_equal(forgetlab.load(p).logits(x), want)
            back = forgetlab.safetensors.load(p)
            self.assertEqual(list(back), list(tensors))
        # Other dtypes round-trip in NumPy alone.
        p = os.path.join(self.t, "mixed.safetensors")
        mixed = {"a": np.arange(6, dtype=np.int64).reshape(2, 3), "b": np.ones(4, np.float16), "c": np.array(2.5)}
        forgetlab.safetensors.save(p, mixed)
        for k, v in forgetlab.safetensors.load(p).items():
            self.assertEqual(v.dtype, mixed[k].dtype)
            np.testing.assert_array_equal(v, mixed[k])
        with self.assertRaisesRegex(forgetlab.ForgetlabError, "F16|F32|dtype"):
            forgetlab.load(p)

    def test_safetensors_bad_files(self):
        p = os.path.join(self.t, "bad.safetensors")

        def file(header, data=b"", raw=None):
            h = json.dumps(header).encode()
            with open(p, "wb") as f:
                f.write(raw if raw is not None else len(h).to_bytes(8, "little") + h + data)

        t = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
        cases = [(dict(raw=b"\x01\x02"), "too short"), (dict(raw=b"\xff" * 8 + b"{}"), "exceeds"),
                 (dict(raw=b"\x04" + b"\x00" * 7 + b"{no}"), "not JSON"),
                 (dict(header={"w": dict(t, shape=[3])}, data=b"\x00" * 8), "do not hold"),
                 (dict(header={"w": t}, data=b"\x00" * 4), "do not hold"),
                 (dict(header={"w": dict(t, dtype="BF16")}, data=b"\x00" * 8), "BF16"),
                 (dict(header={"w": {"shape": [2]}}), "lacks"),
                 (dict(header={"a": t, "b": dict(t, data_offsets=[4, 12])}, data=b"\x00" * 12), "overlap")]
        for kw, word in cases:
            file(kw.get("header"), kw.get("data", b""), kw.get("raw"))
            with self.assertRaises(ValueError) as e:
                forgetlab.safetensors.load(p)
            self.assertIn(word, str(e.exception))

    def circuits_against_cli(self, args, **kw):
        d = os.path.join(self.t, "circ_" + "_".join(str(a) for a in args).replace("-", ""))
        cli("circuits", "--model", self.base, "--subtasks", "by-class", "--examples", 15, "--baseline", 12,
            "--seed", 4, "--threads", 1, "--out", d, *args)
        ld = lambda n: np.load(os.path.join(d, n))
        x, lab, sub = ld("inputs.npy"), ld("labels.npy"), ld("subtasks.npy")
        xc = ld("corrupted.npy") if os.path.exists(os.path.join(d, "corrupted.npy")) else None
        self.assertEqual(lab.dtype, np.int32)
        v, s = forgetlab.circuits(self.m, x, xc, sub, labels=lab, return_scores=True, **kw)
        np.testing.assert_allclose(s, ld("scores.npy"), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(v, ld("vectors.npy"), rtol=1e-4, atol=1e-6)
        cs, rho = forgetlab.circuit_stability(v)
        with open(os.path.join(d, "summary.json")) as f:
            summary = json.load(f)
        self.assertAlmostEqual(cs, summary["cs"], places=4)
        np.testing.assert_allclose(rho, ld("spearman.npy"), atol=1e-4)
        mean, lo, hi = forgetlab.circuit_stability_baseline(s, sub, draws=12, seed=4)
        self.assertAlmostEqual(mean, summary["cs_random"], places=4)
        self.assertAlmostEqual(lo, summary["cs_random_lo"], places=4)
        self.assertAlmostEqual(hi, summary["cs_random_hi"], places=4)
        self.assertLessEqual(lo, hi)
        self.assertEqual(forgetlab.components(self.m)[:3], ["layers.0.unit.0", "layers.0.unit.1", "layers.0.unit.2"])
        self.assertEqual(len(forgetlab.components(self.m)), 32 + 16 + 2)
        return v

    def test_circuits_kl_apig_within(self):
        v = self.circuits_against_cli(["--task", "fashion"])
        self.assertEqual(v.shape, (10, 50))

    def test_circuits_ce_ap_parity(self):
        self.circuits_against_cli(["--task", "parity", "--method", "ap", "--loss", "ce", "--corrupt",
                                   "counterfactual"], method="ap", loss="ce", parity=True)

    def test_language_model_logits_give_sample_logp(self):
        d = os.path.join(self.t, "lm")
        cli("lm-pretrain", "--layers", 1, "--embd", 32, "--heads", 2, "--ctx", 32, "--batch", 8, "--steps", 20,
            "--eval-every", 20, "--eval-prompts", 2, "--threads", 1, "--out", d)
        lm = forgetlab.load(d)
        self.assertEqual(lm.arch, "gpt")
        line = cli("sample", "--model", d, "--prompt", "rev:abc=", "--temperature", 1, "--max-new", 12,
                   "--no-stop", "--seed", 2, "--json", "--threads", 1).splitlines()[0]
        js = json.loads(line)
        tok = np.array([[ord(c) for c in js["prompt"] + js["completion"]]])
        z = lm.logits(tok).astype(np.float64)
        self.assertEqual(z.shape, (1, tok.shape[1], 256))
        logp = z - np.logaddexp.reduce(z, axis=2, keepdims=True)
        p = len(js["prompt"])
        mine = sum(logp[0, t - 1, tok[0, t]] for t in range(p, tok.shape[1]))
        self.assertAlmostEqual(mine, js["logp"], delta=1e-3 * max(1, abs(js["logp"])))
        # Causal: a prefix's logits are the first positions of the whole's.
        np.testing.assert_allclose(lm.logits(tok[:, :5])[0], z[0, :5], rtol=1e-4, atol=1e-4)
        with self.assertRaisesRegex(forgetlab.ForgetlabError, "outside the vocabulary"):
            lm.logits(np.array([[1, 300]]))
        with self.assertRaisesRegex(forgetlab.ForgetlabError, "reads 1 to 32"):
            lm.logits(np.zeros((1, 33), int))
        with self.assertRaisesRegex(ValueError, "integers"):
            lm.logits(np.array([[0.5, 1.0]]))

    def test_transformer_logits(self):
        d = os.path.join(self.t, "grok")
        cli("grok", "--preset", "tiny", "--epochs", 5, "--threads", 1, "--quiet", "--out", d)
        m = forgetlab.load(d)
        self.assertEqual(m.arch, "transformer")
        p = m.config["p"]
        self.assertEqual((m.input_size, m.output_size, m.vocab), (3, p, p + 1))
        tok = np.array([[a, b, p] for a in range(p) for b in range(0, p, 7)])
        z = m.logits(tok)
        self.assertEqual(z.shape, (len(tok), 1, p))
        self.assertTrue(np.isfinite(z).all())
        np.testing.assert_allclose(m.logits(tok[:4]), z[:4], rtol=1e-5, atol=1e-5)
        with self.assertRaisesRegex(forgetlab.ForgetlabError, "reads 3"):
            m.logits(tok[:, :2])
        with self.assertRaisesRegex(forgetlab.ForgetlabError, "outside the vocabulary"):
            m.logits(tok + p)

    def test_bad_input(self):
        x = np.load(self.f["inputs"])[:10]
        with self.assertRaisesRegex(FileNotFoundError, "does not exist"):
            forgetlab.load(os.path.join(self.t, "nothing"))
        junk = os.path.join(self.t, "junk.safetensors")
        with open(junk, "wb") as f:
            f.write(b"not a model at all")
        with self.assertRaises(forgetlab.ForgetlabError) as e:
            forgetlab.load(junk)
        self.assertIn("junk.safetensors", str(e.exception))
        cases = [(x[:, :784], "785"), (x.astype(str), "dtype"), (x[None], "dimensions")]
        bad = x.copy()
        bad[1, 7] = np.inf
        cases.append((bad, "non-finite"))
        for arr, word in cases:
            with self.assertRaises(ValueError) as e:
                self.m.logits(arr)
            self.assertIn(word, str(e.exception))
        with self.assertRaisesRegex(forgetlab.ForgetlabError, "KL without integrated gradients|integrated"):
            forgetlab.circuits(self.m, x, x[::-1], np.arange(10) % 2, method="ap", loss="kl")
        with self.assertRaisesRegex(ValueError, "2 distinct|at least 2"):
            forgetlab.circuits(self.m, x, x[::-1], np.zeros(10, int))
        with self.assertRaisesRegex(forgetlab.ForgetlabError, "needs the labels"):
            forgetlab.circuits(self.m, x, x[::-1], np.arange(10) % 2, loss="ce")
        with self.assertRaisesRegex(ValueError, "3 ids for 10"):
            forgetlab.circuits(self.m, x, x[::-1], [0, 1, 0])


if __name__ == "__main__":
    unittest.main()
