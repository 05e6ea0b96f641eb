/* test_checkpoint.c: a model survives fl_mlp_save / fl_mlp_load, and a
 * checkpoint whose metadata does not describe its tensors is refused before
 * the model is allocated: the spec is a few bytes an attacker (or a damaged
 * file) controls, the tensors are backed by the file. fl_checkpoint_arch
 * names the kind of model a file holds. */
#include "testutil.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/io/safetensors.h"

static void fill(fl_mlp *m) {
    for (size_t i = 0; i < m->blob.n; i++) m->blob.params[i] = (float)i / 8.0f - 1.0f;
}

static void assert_refused(const char *path, const char *needle) {
    fl_mlp m;
    char *cfg = NULL;
    fl_error_clear();
    assert_int_equal(fl_mlp_load(path, &m, &cfg), -1);
    assert_null(cfg);
    assert_null(m.blob.mem);
    tu_assert_error_mentions(path, needle);
}

static void test_roundtrip(void **state) {
    (void)state;
    char *p = tu_scratch("model.safetensors");
    fl_mlp a, b;
    assert_int_equal(fl_mlp_create_from_spec(&a, "4-3-2"), 0);
    fill(&a);
    assert_int_equal(fl_mlp_save(p, &a, "{\"seed\":7}"), 0);
    char *cfg = NULL;
    assert_int_equal(fl_mlp_load(tu_dir, &b, &cfg), 0); /* a run directory works too */
    assert_string_equal(cfg, "{\"seed\":7}");
    assert_int_equal(b.nlayers, 2);
    assert_int_equal(b.blob.n, a.blob.n);
    assert_memory_equal(b.blob.params, a.blob.params, a.blob.n * sizeof(float));
    free(cfg);
    fl_mlp_free(&a);
    fl_mlp_free(&b);
    free(p);
}

/* The tensors of a 4-3-2 model under the given arch and spec metadata. */
static void write_with_spec(const char *path, const char *spec) {
    fl_mlp m;
    assert_int_equal(fl_mlp_create_from_spec(&m, "4-3-2"), 0);
    fill(&m);
    fl_st_tensor ts[4];
    for (int i = 0; i < m.blob.nviews; i++) {
        const fl_view *v = &m.blob.views[i];
        ts[i] = (fl_st_tensor){.name = (char *)v->name, .ndim = v->ndim,
                               .data = m.blob.params + v->offset};
        for (int d = 0; d < v->ndim; d++) ts[i].shape[d] = v->shape[d];
    }
    const char *keys[] = {"arch", "spec"}, *vals[] = {"mlp", spec};
    assert_int_equal(fl_safetensors_write(path, ts, m.blob.nviews, keys, vals, 2), 0);
    fl_mlp_free(&m);
}

static void test_refuses_spec_that_does_not_match(void **state) {
    (void)state;
    char *p = tu_scratch("model.safetensors");
    write_with_spec(p, "4-3-3");
    assert_refused(p, "hold 23 parameters, spec 4-3-3 needs 27");
    /* As many parameters, but in other tensors. */
    write_with_spec(p, "22-1");
    assert_refused(p, "4 tensors, spec 22-1 needs 2");
    write_with_spec(p, "4-3-x");
    assert_refused(p, "model spec");
    free(p);
}

/* A 64-byte file without tensors whose spec asked for a 30000-20000 network
 * made the loader allocate and zero 9.6 GB (16 TB for 1000000-1000000)
 * before it looked at the tensors; fuzz/fuzz_checkpoint reports it as an
 * out-of-memory. */
static void test_refuses_huge_spec_without_allocating(void **state) {
    (void)state;
    char *p = tu_scratch("huge.safetensors");
    const char *keys[] = {"arch", "spec"};
    const char *specs[] = {"30000-20000", "1000000-1000000", "1000000-1000000-1000000-1000000"};
    for (int i = 0; i < 3; i++) {
        const char *vals[] = {"mlp", specs[i]};
        assert_int_equal(fl_safetensors_write(p, NULL, 0, keys, vals, 2), 0);
        assert_refused(p, "the tensors hold 0 parameters");
    }
    free(p);
}

/* fl_checkpoint_arch tells the kinds apart without building the model:
 * forgetlab's metadata, or an MLP's tensor names without it. */
static void test_arch(void **state) {
    (void)state;
    char *p = tu_scratch("model.safetensors"), arch[32];
    fl_mlp m;
    assert_int_equal(fl_mlp_create_from_spec(&m, "4-3-2"), 0);
    assert_int_equal(fl_mlp_save(p, &m, NULL), 0);
    assert_int_equal(fl_checkpoint_arch(tu_dir, arch, sizeof arch), 0);
    assert_string_equal(arch, "mlp");
    fl_st_tensor t = {.name = (char *)m.blob.views[0].name, .ndim = 2, .shape = {3, 4}, .numel = 12, .data = m.blob.params};
    assert_int_equal(fl_safetensors_write(p, &t, 1, NULL, NULL, 0), 0); /* half an MLP, no metadata */
    assert_int_equal(fl_checkpoint_arch(p, arch, sizeof arch), -1);
    tu_assert_error_mentions(p, "not a forgetlab model");
    fl_gpt g;
    const fl_gpt_config c = {256, 16, 1, 8, 2};
    assert_int_equal(fl_gpt_create(&g, &c), 0);
    assert_int_equal(fl_gpt_save(p, &g, NULL), 0);
    assert_int_equal(fl_checkpoint_arch(p, arch, sizeof arch), 0);
    assert_string_equal(arch, "gpt");
    char *missing = tu_scratch("missing.safetensors");
    assert_int_equal(fl_checkpoint_arch(missing, arch, sizeof arch), -1);
    tu_assert_error_mentions(missing, NULL);
    fl_gpt_free(&g);
    fl_mlp_free(&m);
    free(p), free(missing);
}

TU_MAIN(TU_SCRATCH_TEST(test_roundtrip), TU_SCRATCH_TEST(test_refuses_spec_that_does_not_match),
        TU_SCRATCH_TEST(test_refuses_huge_spec_without_allocating), TU_SCRATCH_TEST(test_arch))
