/* Unit tests of the Delta log: commit writing, replay, checkpoints, paths, bad input, faults. */
#include "pt.h"

#include <pond/delta.h>

#include "delta/delta_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SCHEMA =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"n\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"s\",\"type\":{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":"
    "\"double\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"l\",\"type\":{\"type\":\"array\",\"elementType\":\"integer\","
    "\"containsNull\":true},\"nullable\":true,\"metadata\":{}}]}";

static char *join(const char *a, const char *b)
{
    char *p = pond__path_join(a, b);
    PT_ASSERT(p);
    return p;
}

/* Test fixtures are written with plain stdio: the code under test is the reader. */
static void write_text(const char *dir, const char *name, const char *text)
{
    char *p = join(dir, name);
    FILE *f = fopen(p, "wb");
    PT_ASSERT(f);
    fputs(text, f);
    fclose(f);
    pond_free(p);
}

static char *read_text(const char *dir, const char *name)
{
    char *p = join(dir, name);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, p, 1 << 20, POND_DOM_NONE));
    pond_free(p);
    return pond_buf_detach(&b);
}

static bool exists(const char *dir, const char *name)
{
    char *p = join(dir, name);
    struct stat st;
    bool r = stat(p, &st) == 0;
    pond_free(p);
    return r;
}

static int count_log_entries(const char *dir, const char *prefix)
{
    char *p = join(dir, "_delta_log");
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    pond_free(p);
    return n;
}

static char *mk_table_dir(const char *name)
{
    char *dir = join(PT_TMPDIR(), name);
    PT_ASSERT_OK(pond__mkdir_p(dir, POND_DOM_NONE));
    return dir;
}

static char *mk_log_dir(const char *name)
{
    char *dir = mk_table_dir(name);
    char *log = join(dir, "_delta_log");
    PT_ASSERT_OK(pond__mkdir(log, true, POND_DOM_NONE));
    pond_free(log);
    return dir;
}

/* ------------------------------------------------------------------ writer */

static int build_v0(pond_delta_actions **out)
{
    pond_delta_actions *a = NULL;
    int rc = pond_delta_actions_new(&a);
    const char *pcols[] = {"part"};
    pond_delta_kv cfg[] = {{"pond.version", "1"}};
    pond_delta_metadata_desc md = {POND_DELTA_METADATA_DESC_VERSION,
                                   "0b6f7a8e-aaaa-4bbb-8ccc-000000000001",
                                   "t",
                                   NULL,
                                   SCHEMA,
                                   pcols,
                                   1,
                                   cfg,
                                   1,
                                   1700000000000};
    pond_delta_kv pv1[] = {{"part", "a b"}};
    pond_delta_kv pv2[] = {{"part", NULL}};
    pond_delta_file_desc f1 = {POND_DELTA_FILE_DESC_VERSION,
                               "part=a b/f1.parquet",
                               pv1,
                               1,
                               10,
                               5,
                               0,
                               true,
                               "{\"numRecords\":3,\"minValues\":{\"n\":1},\"maxValues\":"
                               "{\"n\":9},\"nullCount\":{\"n\":0}}",
                               NULL,
                               0};
    pond_delta_file_desc f2 = {POND_DELTA_FILE_DESC_VERSION,
                               "part=__HIVE_DEFAULT_PARTITION__/f2.parquet",
                               pv2,
                               1,
                               20,
                               6,
                               0,
                               true,
                               NULL,
                               NULL,
                               0};
    if (rc == 0)
        rc = pond_delta_actions_commit_info(
            a, 1700000000001, "WRITE", "{\"mode\":\"Append\"}",
            "{\"pond.cmdline\":[\"pond\",\"copy\"],\"pond.txn_seq\":1}");
    if (rc == 0)
        rc = pond_delta_actions_protocol(a, 1, 2, NULL, 0, NULL, 0);
    if (rc == 0)
        rc = pond_delta_actions_metadata(a, &md);
    if (rc == 0)
        rc = pond_delta_actions_add(a, &f1);
    if (rc == 0)
        rc = pond_delta_actions_add(a, &f2);
    if (rc < 0) {
        pond_delta_actions_free(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

static void test_commit_roundtrip(void)
{
    char *dir = mk_table_dir("t");
    pond_delta_actions *a;
    PT_ASSERT_OK(build_v0(&a));
    PT_ASSERT_INT_EQ(pond_delta_actions_count(a), 5);
    PT_ASSERT_OK(pond_delta_commit_write(dir, 0, a));
    pond_delta_actions_free(a);

    /* v1: remove f2, add f3 with a txn */
    PT_ASSERT_OK(pond_delta_actions_new(&a));
    pond_delta_kv pv[] = {{"part", "b"}};
    pond_delta_file_desc rm = {POND_DELTA_FILE_DESC_VERSION,
                               "part=__HIVE_DEFAULT_PARTITION__/f2.parquet",
                               NULL,
                               0,
                               -1,
                               0,
                               1700000000100,
                               true,
                               NULL,
                               NULL,
                               0};
    pond_delta_file_desc f3 = {POND_DELTA_FILE_DESC_VERSION,
                               "part=b/f3%.parquet",
                               pv,
                               1,
                               30,
                               7,
                               0,
                               true,
                               "{\"numRecords\":4}",
                               NULL,
                               0};
    PT_ASSERT_OK(pond_delta_actions_remove(a, &rm));
    PT_ASSERT_OK(pond_delta_actions_add(a, &f3));
    PT_ASSERT_OK(pond_delta_actions_txn(a, "pond", 7, 1700000000100));
    PT_ASSERT_OK(pond_delta_actions_commit_info(a, 1700000000100, "DELETE", NULL, NULL));
    PT_ASSERT_OK(pond_delta_commit_write(dir, 1, a));
    pond_delta_actions_free(a);

    /* the first line is commitInfo, as other writers put it */
    char *text = read_text(dir, "_delta_log/00000000000000000001.json");
    PT_ASSERT(strncmp(text, "{\"commitInfo\":", 14) == 0);
    PT_ASSERT(strstr(text, "\"path\":\"part=b/f3%25.parquet\""));
    pond_free(text);

    pond_delta_table *t;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_version(t), 1);
    PT_ASSERT_INT_EQ(pond_delta_table_file_count(t), 2);
    PT_ASSERT_INT_EQ(pond_delta_table_protocol(t)->min_reader_version, 1);
    PT_ASSERT_INT_EQ(pond_delta_table_protocol(t)->min_writer_version, 2);
    const pond_delta_metadata *md = pond_delta_table_metadata(t);
    PT_ASSERT_STR_EQ(md->id, "0b6f7a8e-aaaa-4bbb-8ccc-000000000001");
    PT_ASSERT_INT_EQ(md->n_partition_columns, 1);
    PT_ASSERT_STR_EQ(md->partition_columns[0], "part");
    PT_ASSERT_STR_EQ(pond_delta_table_config(t, "pond.version"), "1");
    PT_ASSERT_INT_EQ(md->created_time, 1700000000000);
    PT_ASSERT_INT_EQ(md->schema->n_fields, 4);
    PT_ASSERT_STR_EQ(md->schema->fields[1].name, "n");
    PT_ASSERT(!md->schema->fields[1].nullable);
    PT_ASSERT_STR_EQ(md->schema->fields[1].type->primitive, "long");
    PT_ASSERT_INT_EQ(md->schema->fields[2].type->kind, POND_DELTA_TYPE_STRUCT);
    PT_ASSERT_INT_EQ(md->schema->fields[3].type->kind, POND_DELTA_TYPE_ARRAY);
    PT_ASSERT_STR_EQ(md->schema->fields[3].type->element->primitive, "integer");
    pond_buf tb = POND_BUF_INIT;
    PT_ASSERT_OK(pond_delta__type_format(&tb, md->schema));
    PT_ASSERT_STR_EQ(tb.ptr, "struct<part:string,n:long,s:struct<x:double>,l:array<integer>>");
    pond_buf_dispose(&tb);

    const pond_delta_file *f = pond_delta_table_file_lookup(t, "part=a b/f1.parquet");
    PT_ASSERT(f);
    PT_ASSERT_STR_EQ(f->path, "part=a%20b/f1.parquet");
    PT_ASSERT_INT_EQ(f->size, 10);
    PT_ASSERT_INT_EQ(f->version, 0);
    const char *v;
    PT_ASSERT_OK(pond_delta_file_partition_value(&v, t, f, "part"));
    PT_ASSERT_STR_EQ(v, "a b");
    int64_t nrec;
    PT_ASSERT_OK(pond_delta_file_num_records(&nrec, f));
    PT_ASSERT_INT_EQ(nrec, 3);
    PT_ASSERT(!pond_delta_table_file_lookup(t, "part=__HIVE_DEFAULT_PARTITION__/f2.parquet"));
    f = pond_delta_table_file_lookup(t, "part=b/f3%.parquet");
    PT_ASSERT(f);
    PT_ASSERT_INT_EQ(f->version, 1);
    PT_ASSERT_ERR(pond_delta_file_partition_value(&v, t, f, "n"), POND_ENOTFOUND);
    int64_t tv;
    PT_ASSERT_OK(pond_delta_table_txn_version(&tv, t, "pond"));
    PT_ASSERT_INT_EQ(tv, 7);
    PT_ASSERT_ERR(pond_delta_table_txn_version(&tv, t, "other"), POND_ENOTFOUND);
    pond_delta_table_free(t);

    /* time travel to version 0 */
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = 0;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, &o));
    PT_ASSERT_INT_EQ(pond_delta_table_file_count(t), 2);
    f = pond_delta_table_file_lookup(t, "part=__HIVE_DEFAULT_PARTITION__/f2.parquet");
    PT_ASSERT(f);
    PT_ASSERT_OK(pond_delta_file_partition_value(&v, t, f, "part"));
    PT_ASSERT(v == NULL);
    PT_ASSERT_ERR(pond_delta_file_num_records(&nrec, f), POND_ENOTFOUND);
    pond_delta_table_free(t);
    o.at_version = 2;
    PT_ASSERT_ERR(pond_delta_table_open(&t, dir, &o), POND_ENOTFOUND);
    PT_ASSERT(t == NULL);

    /* commitInfo carries the free-form fields */
    char *ci;
    PT_ASSERT_OK(pond_delta_commit_info_read(&ci, dir, 0));
    PT_ASSERT(strstr(ci, "\"operation\":\"WRITE\""));
    PT_ASSERT(strstr(ci, "\"pond.cmdline\":[\"pond\",\"copy\"]"));
    PT_ASSERT(strstr(ci, "\"pond.txn_seq\":1"));
    PT_ASSERT(strstr(ci, "\"operationParameters\":{\"mode\":\"Append\"}"));
    pond_free(ci);
    pond_free(dir);
}

static void test_commit_conflict(void)
{
    char *dir = mk_table_dir("t");
    pond_delta_actions *a;
    PT_ASSERT_OK(build_v0(&a));
    PT_ASSERT_OK(pond_delta_commit_write(dir, 0, a));
    char *before = read_text(dir, "_delta_log/00000000000000000000.json");
    pond_delta_actions *b;
    PT_ASSERT_OK(pond_delta_actions_new(&b));
    PT_ASSERT_OK(pond_delta_actions_protocol(b, 1, 2, NULL, 0, NULL, 0));
    pond_delta_metadata_desc md = {
        POND_DELTA_METADATA_DESC_VERSION, "other-id", NULL, NULL, SCHEMA, NULL, 0, NULL, 0, -1};
    PT_ASSERT_OK(pond_delta_actions_metadata(b, &md));
    PT_ASSERT_ERR(pond_delta_commit_write(dir, 0, b), POND_ECONFLICT);
    PT_ASSERT_MSG_HAS("version 0 already exists");
    char *after = read_text(dir, "_delta_log/00000000000000000000.json");
    PT_ASSERT_STR_EQ(after, before);
    PT_ASSERT_INT_EQ(count_log_entries(dir, ".tmp"), 0);
    /* no gaps: version 5 needs version 4 */
    PT_ASSERT_ERR(pond_delta_commit_write(dir, 5, b), POND_EINVALID);
    PT_ASSERT_MSG_HAS("version 4 does not exist");
    /* the loser can commit at the next version */
    PT_ASSERT_OK(pond_delta_commit_write(dir, 1, b));
    pond_free(before);
    pond_free(after);
    pond_delta_actions_free(a);
    pond_delta_actions_free(b);
    pond_free(dir);
}

static void test_writer_rejects_bad_input(void)
{
    pond_delta_actions *a;
    PT_ASSERT_OK(pond_delta_actions_new(&a));
    pond_delta_file_desc f = {
        POND_DELTA_FILE_DESC_VERSION, "../x.parquet", NULL, 0, 1, 1, 0, true, NULL, NULL, 0};
    PT_ASSERT_ERR(pond_delta_actions_add(a, &f), POND_EINVALID);
    f.path = "/abs/x.parquet";
    PT_ASSERT_ERR(pond_delta_actions_add(a, &f), POND_EINVALID);
    f.path = "a//x.parquet";
    PT_ASSERT_ERR(pond_delta_actions_add(a, &f), POND_EINVALID);
    f.path = "ok.parquet";
    f.stats = "{\"numRecords\":";
    PT_ASSERT_ERR(pond_delta_actions_add(a, &f), POND_EINVALID);
    pond_delta_metadata_desc md = {
        POND_DELTA_METADATA_DESC_VERSION, "id", NULL, NULL, "{\"type\":1}", NULL, 0, NULL, 0, -1};
    PT_ASSERT_ERR(pond_delta_actions_metadata(a, &md), POND_EINVALID);
    const char *pc[] = {"nope"};
    md.schema_string = SCHEMA;
    md.partition_columns = pc;
    md.n_partition_columns = 1;
    PT_ASSERT_ERR(pond_delta_actions_metadata(a, &md), POND_EINVALID);
    PT_ASSERT_MSG_HAS("is not in the schema");
    PT_ASSERT_ERR(pond_delta_actions_protocol(a, 3, 7, NULL, 0, NULL, 0), POND_EINVALID);
    PT_ASSERT_ERR(pond_delta_actions_commit_info(a, 1, "X", "[1]", NULL), POND_EINVALID);
    PT_ASSERT_INT_EQ(pond_delta_actions_count(a), 0);
    /* an empty commit, and a version 0 without protocol/metaData, are refused */
    char *dir = mk_table_dir("t");
    PT_ASSERT_ERR(pond_delta_commit_write(dir, 3, a), POND_EINVALID);
    PT_ASSERT_OK(pond_delta_actions_txn(a, "x", 1, -1));
    PT_ASSERT_ERR(pond_delta_commit_write(dir, 0, a), POND_EINVALID);
    pond_delta_actions_free(a);
    pond_free(dir);
}

/* Each injected failure on the commit path: the commit fails, no commit file, no temp file. */
static void test_commit_fault_injection(void)
{
    struct {
        pond_os_call call;
        int n;
    } faults[] = {{POND_OS_WRITE, 1},
                  {POND_OS_FSYNC, 1},
                  {POND_OS_FSYNC, 2},
                  {POND_OS_LINK, 1},
                  {POND_OS_OPEN, 1}};
    for (size_t i = 0; i < POND_ARRAY_LEN(faults); i++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu", i);
        char *dir = mk_table_dir(name);
        pond_delta_actions *a;
        PT_ASSERT_OK(build_v0(&a));
        PT_ASSERT_OK(pond_delta_commit_write(dir, 0, a));
        pond_os_fault_at(faults[i].call, (uint64_t)faults[i].n, POND_FAULT_ERRNO, EIO, false);
        int rc = pond_delta_commit_write(dir, 1, a);
        bool fired = pond_os_fault_fired();
        pond_os_fault_clear();
        PT_ASSERT(fired);
        PT_ASSERT(rc < 0);
        PT_ASSERT(!exists(dir, "_delta_log/00000000000000000001.json"));
        PT_ASSERT_INT_EQ(count_log_entries(dir, ".tmp"), 0);
        /* the table still reads as version 0 and the next attempt succeeds */
        pond_delta_table *t;
        PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
        PT_ASSERT_INT_EQ(pond_delta_table_version(t), 0);
        pond_delta_table_free(t);
        PT_ASSERT_OK(pond_delta_commit_write(dir, 1, a));
        pond_delta_actions_free(a);
        pond_free(dir);
    }
}

/* ------------------------------------------------------------------ replay */

#define PROTO "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
#define META                                                                                       \
    "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"            \
    "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"a\\\","     \
    "\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\","                    \
    "\"partitionColumns\":[],\"configuration\":{}}}\n"
#define ADD(p)                                                                                     \
    "{\"add\":{\"path\":\"" p "\",\"partitionValues\":{},\"size\":1,"                              \
    "\"modificationTime\":1,\"dataChange\":true}}\n"
#define REMOVE(p) "{\"remove\":{\"path\":\"" p "\",\"deletionTimestamp\":2,\"dataChange\":true}}\n"

static size_t live_names(const pond_delta_table *t, char *out, size_t cap);

static int collect(const pond_delta_file *f, void *payload)
{
    pond_buf *b = payload;
    return pond_buf_printf(b, "%s%s", b->size ? "," : "", f->decoded_path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, comma-separated decoded paths of the live files. */
static size_t live_names(const pond_delta_table *t, char *out, size_t cap)
{
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_delta_table_foreach_file(t, collect, &b));
    char *names[64];
    size_t n = 0;
    for (char *s = b.ptr ? strtok(b.ptr, ",") : NULL; s && n < 64; s = strtok(NULL, ","))
        names[n++] = s;
    qsort(names, n, sizeof *names, cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strncat(out, i ? "," : "", cap - strlen(out) - 1);
        strncat(out, names[i], cap - strlen(out) - 1);
    }
    pond_buf_dispose(&b);
    return n;
}

static void test_replay_add_remove(void)
{
    char *dir = mk_log_dir("t");
    write_text(dir, "_delta_log/00000000000000000000.json", PROTO META ADD("a") ADD("b"));
    write_text(dir, "_delta_log/00000000000000000001.json", REMOVE("a") ADD("c%20d"));
    write_text(dir, "_delta_log/00000000000000000002.json", ADD("a") REMOVE("b") REMOVE("zz"));
    write_text(dir, "_delta_log/00000000000000000003.json", "\n" ADD("a") "\r\n");
    char names[256];
    pond_delta_table *t;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_version(t), 3);
    PT_ASSERT_INT_EQ(live_names(t, names, sizeof names), 2);
    PT_ASSERT_STR_EQ(names, "a,c d");
    /* a re-add of a live file replaces it: the latest add wins */
    PT_ASSERT_INT_EQ(pond_delta_table_file_lookup(t, "a")->version, 3);
    PT_ASSERT_INT_EQ(pond_delta_table_commits_replayed(t), 4);
    pond_delta_table_free(t);
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = 1;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, &o));
    PT_ASSERT_INT_EQ(live_names(t, names, sizeof names), 2);
    PT_ASSERT_STR_EQ(names, "b,c d");
    pond_delta_table_free(t);
    pond_free(dir);
}

static void test_replay_deletion_vectors(void)
{
    char *dir = mk_log_dir("t");
    const char *dv1 = "\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":\"ab\","
                      "\"offset\":1,\"sizeInBytes\":34,\"cardinality\":2}";
    const char *dv2 = "\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":\"cd\","
                      "\"offset\":1,\"sizeInBytes\":36,\"cardinality\":3}";
    char c1[1024], c2[1024];
    /* v1: the DV of f is replaced (remove old + add new, same path) -- legal */
    snprintf(c1, sizeof c1,
             "{\"remove\":{\"path\":\"f\",\"dataChange\":true}}\n"
             "{\"add\":{\"path\":\"f\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,"
             "\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":5}\",%s}}\n",
             dv1);
    /* v2: f added with yet another DV while dv1 is live -- two logical files, one path */
    snprintf(c2, sizeof c2,
             "{\"add\":{\"path\":\"f\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,"
             "\"dataChange\":true,%s}}\n",
             dv2);
    write_text(dir, "_delta_log/00000000000000000000.json", PROTO META ADD("f"));
    write_text(dir, "_delta_log/00000000000000000001.json", c1);
    pond_delta_table *t;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    const pond_delta_file *f = pond_delta_table_file_lookup(t, "f");
    PT_ASSERT(f && f->deletion_vector);
    PT_ASSERT_INT_EQ(f->deletion_vector->storage_type, 'u');
    PT_ASSERT_STR_EQ(f->deletion_vector->path_or_inline, "ab");
    PT_ASSERT_INT_EQ(f->deletion_vector->offset, 1);
    PT_ASSERT_INT_EQ(f->deletion_vector->cardinality, 2);
    PT_ASSERT_INT_EQ(pond_delta_table_file_count(t), 1);
    pond_delta_table_free(t);
    /* many files with vectors: descriptors must survive the growth of the file table */
    pond_buf many = POND_BUF_INIT;
    for (int i = 0; i < 300; i++)
        PT_ASSERT_OK(pond_buf_printf(
            &many,
            "{\"add\":{\"path\":\"g%d\",\"partitionValues\":{},\"size\":1,"
            "\"modificationTime\":1,\"dataChange\":true,\"deletionVector\":{\"storageType\":"
            "\"i\",\"pathOrInlineDv\":\"dv%d\",\"sizeInBytes\":%d,\"cardinality\":%d}}}\n",
            i, i, 20 + i, i));
    write_text(dir, "_delta_log/00000000000000000002.json", many.ptr);
    pond_buf_dispose(&many);
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_file_count(t), 301);
    for (int i = 0; i < 300; i += 37) {
        char name[16], want[16];
        snprintf(name, sizeof name, "g%d", i);
        snprintf(want, sizeof want, "dv%d", i);
        f = pond_delta_table_file_lookup(t, name);
        PT_ASSERT(f && f->deletion_vector);
        PT_ASSERT_STR_EQ(f->deletion_vector->path_or_inline, want);
        PT_ASSERT_INT_EQ(f->deletion_vector->cardinality, i);
    }
    PT_ASSERT_STR_EQ(pond_delta_table_file_lookup(t, "f")->deletion_vector->path_or_inline, "ab");
    pond_delta_table_free(t);
    write_text(dir, "_delta_log/00000000000000000003.json", c2);
    PT_ASSERT_ERR(pond_delta_table_open(&t, dir, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("duplicated live path");
    pond_free(dir);
}

static void test_replay_rejects(void)
{
    static const struct {
        const char *v1;
        int code;
        const char *phrase;
    } cases[] = {
        {ADD("x") "{\"add\":{\"path\":\"x\",\"partitionValues\":{},\"size\":1,\"modificationTime\":"
                  "1,"
                  "\"dataChange\":tr\n",
         POND_ECORRUPT, "version 1 line 2: invalid JSON"},
        {"{\"add\":{},\"commitInfo\":{}}\n", POND_ECORRUPT, "exactly one action per line"},
        {ADD("x") ADD("x"), POND_ECORRUPT, "more than one add action"},
        {ADD("../escape"), POND_ECORRUPT, "'..' component"},
        {ADD("a/%2E%2E/b"), POND_ECORRUPT, "'..' component"},
        {ADD("/etc/passwd"), POND_EUNSUPPORTED, "is absolute"},
        {ADD("file:/tmp/x"), POND_EUNSUPPORTED, "absolute URI"},
        {ADD("bad%zzescape"), POND_ECORRUPT, "bad percent escape"},
        {ADD("nul%00byte"), POND_ECORRUPT, "NUL"},
        {"{\"add\":{\"path\":\"x\",\"partitionValues\":{},\"size\":\"1\",\"modificationTime\":1,"
         "\"dataChange\":true}}\n",
         POND_ECORRUPT, "without integer size"},
        {"{\"add\":{\"path\":\"x\",\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n",
         POND_ECORRUPT, "without partitionValues"},
        {"{\"remove\":{\"path\":\"x\"}}\n", POND_ECORRUPT, "without boolean dataChange"},
        {PROTO PROTO, POND_ECORRUPT, "more than one protocol action"},
        {"{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7}}\n", POND_ECORRUPT,
         "requires readerFeatures"},
        {"{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":"
         "[\"futureThing\"],\"writerFeatures\":[\"futureThing\"]}}\n",
         POND_EUNSUPPORTED, "reader feature 'futureThing' is not supported"},
        {"{\"protocol\":{\"minReaderVersion\":4,\"minWriterVersion\":7,\"readerFeatures\":[],"
         "\"writerFeatures\":[]}}\n",
         POND_EUNSUPPORTED, "minReaderVersion 4 is not supported"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"
         "]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
         POND_ECORRUPT, "nesting"},
        {"{\"metaData\":{\"id\":\"x\",\"format\":{},\"schemaString\":\"{\\\"type\\\":\","
         "\"partitionColumns\":[],\"configuration\":{}}}\n",
         POND_ECORRUPT, "schemaString is not valid JSON"},
        {"{\"metaData\":{\"id\":\"x\",\"format\":{},\"schemaString\":\"[1]\","
         "\"partitionColumns\":[],\"configuration\":{}}}\n",
         POND_ECORRUPT, "not a JSON struct"},
        {"{\"metaData\":{\"id\":\"x\",\"format\":{},\"schemaString\":\"{\\\"type\\\":\\\"struct"
         "\\\",\\\"fields\\\":[]}\",\"partitionColumns\":[\"p\"],\"configuration\":{}}}\n",
         POND_ECORRUPT, "partition column 'p' is not in the schema"},
        {"", POND_ECORRUPT, "empty commit file"},
    };
    for (size_t i = 0; i < POND_ARRAY_LEN(cases); i++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu", i);
        char *dir = mk_log_dir(name);
        write_text(dir, "_delta_log/00000000000000000000.json", PROTO META);
        write_text(dir, "_delta_log/00000000000000000001.json", cases[i].v1);
        pond_delta_table *t = (pond_delta_table *)1;
        int rc = pond_delta_table_open(&t, dir, NULL);
        if (rc != cases[i].code || !strstr(pond_error_last()->message, cases[i].phrase))
            pt_fail(__FILE__, __LINE__, "case %zu: rc %d (%s), want %d with \"%s\"", i, rc,
                    pond_error_last()->message, cases[i].code, cases[i].phrase);
        PT_ASSERT(t == NULL);
        pond_free(dir);
    }
}

static void test_replay_version_gaps(void)
{
    char *dir = mk_log_dir("t");
    pond_delta_table *t;
    /* an empty log */
    PT_ASSERT_ERR(pond_delta_table_open(&t, dir, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("no commit or checkpoint files");
    write_text(dir, "_delta_log/00000000000000000000.json", PROTO META ADD("a"));
    write_text(dir, "_delta_log/00000000000000000002.json", ADD("b"));
    PT_ASSERT_ERR(pond_delta_table_open(&t, dir, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("missing commit file for version 1");
    /* version 1 itself is complete */
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = 0;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, &o));
    pond_delta_table_free(t);
    /* a log without version 0 and no checkpoint */
    char *dir2 = mk_log_dir("u");
    write_text(dir2, "_delta_log/00000000000000000001.json", ADD("b"));
    PT_ASSERT_ERR(pond_delta_table_open(&t, dir2, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("missing commit file for version 0");
    /* no _delta_log at all */
    PT_ASSERT_ERR(pond_delta_table_open(&t, PT_TMPDIR(), NULL), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("no _delta_log directory");
    pond_free(dir);
    pond_free(dir2);
}

/* ------------------------------------------------------------------ checkpoints */

static void test_last_checkpoint_fallbacks(void)
{
    char *dir = mk_log_dir("t");
    write_text(dir, "_delta_log/00000000000000000000.json", PROTO META ADD("a") ADD("b"));
    write_text(dir, "_delta_log/00000000000000000001.json", REMOVE("a") ADD("c"));
    write_text(dir, "_delta_log/00000000000000000002.json", ADD("d"));
    static const char *hints[] = {
        NULL,                                     /* missing */
        "",                                       /* empty */
        "{\"version\":",                          /* corrupt */
        "{\"version\":\"one\"}",                  /* wrong type */
        "{\"version\":7,\"size\":3}",             /* stale: points past the log */
        "{\"version\":1,\"size\":3,\"parts\":4}", /* points to a checkpoint that does not exist */
    };
    char names[256];
    for (size_t i = 0; i < POND_ARRAY_LEN(hints); i++) {
        if (hints[i])
            write_text(dir, "_delta_log/_last_checkpoint", hints[i]);
        pond_delta_table *t;
        PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
        PT_ASSERT_INT_EQ(pond_delta_table_version(t), 2);
        PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(t), -1);
        live_names(t, names, sizeof names);
        PT_ASSERT_STR_EQ(names, "b,c,d");
        pond_delta_table_free(t);
    }
    pond_free(dir);
}

#define UUID_CP "00000000000000000001.checkpoint.0e42c15b-17cc-4918-990d-2ff76e918e4d.json"

static void test_v2_json_checkpoint(void)
{
    char *dir = mk_log_dir("t");
    /* the log was cleaned up: only the checkpoint at 1 and commit 2 remain */
    write_text(dir, "_delta_log/" UUID_CP,
               PROTO META ADD("b") ADD("c")
                   REMOVE("a") "{\"checkpointMetadata\":{\"version\":1}}\n");
    write_text(dir, "_delta_log/00000000000000000002.json", ADD("d"));
    write_text(dir, "_delta_log/_last_checkpoint",
               "{\"version\":1,\"size\":5,\"v2Checkpoint\":"
               "{\"path\":\"" UUID_CP "\"}}");
    pond_delta_table *t;
    char names[256];
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_version(t), 2);
    PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(t), 1);
    PT_ASSERT_STR_EQ(pond_delta_table_checkpoint_kind(t), "v2-json");
    PT_ASSERT_INT_EQ(pond_delta_table_commits_replayed(t), 1);
    live_names(t, names, sizeof names);
    PT_ASSERT_STR_EQ(names, "b,c,d");
    pond_delta_table_free(t);
    /* without checkpoints the history is gone: refuse, never guess */
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.ignore_checkpoints = true;
    PT_ASSERT_ERR(pond_delta_table_open(&t, dir, &o), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("missing commit file for version 0");
    /* a checkpoint without metaData cannot rebuild the state */
    write_text(dir, "_delta_log/" UUID_CP, PROTO ADD("b"));
    PT_ASSERT_ERR(pond_delta_table_open(&t, dir, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("exactly one metaData action");
    /* a checkpoint with a duplicated live path */
    write_text(dir, "_delta_log/" UUID_CP, PROTO META ADD("b") ADD("b"));
    PT_ASSERT_ERR(pond_delta_table_open(&t, dir, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("duplicated live path");
    pond_free(dir);
}

static void test_parquet_checkpoint_choice(void)
{
    char *dir = mk_log_dir("t");
    write_text(dir, "_delta_log/00000000000000000000.json", PROTO META ADD("a"));
    write_text(dir, "_delta_log/00000000000000000001.json", ADD("b"));
    write_text(dir, "_delta_log/00000000000000000002.json", ADD("c"));
    /* an incomplete multi-part checkpoint is not usable and is skipped */
    write_text(dir, "_delta_log/00000000000000000002.checkpoint.0000000001.0000000002.parquet",
               "x");
    pond_delta_table *t;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(t), -1);
    pond_delta_table_free(t);
    /* a complete classic checkpoint is chosen; one that cannot be read is skipped with a
     * warning naming it, the JSON commits standing in for it */
    write_text(dir, "_delta_log/00000000000000000001.checkpoint.parquet", "PAR1");
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(t), -1);
    PT_ASSERT_INT_EQ(pond_delta_table_commits_replayed(t), 3);
    PT_ASSERT(pond_delta_table_warning(t, 0) != NULL);
    PT_ASSERT(strstr(pond_delta_table_warning(t, 0),
                     "checkpoint _delta_log/00000000000000000001.checkpoint.parquet cannot be "
                     "read") != NULL);
    PT_ASSERT(pond_delta_table_warning(t, 1) == NULL);
    pond_delta_table_free(t);
    /* a snapshot before the checkpoint does not use it */
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = 0;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, &o));
    PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(t), -1);
    pond_delta_table_free(t);
    /* ignoring checkpoints replays every commit */
    o.at_version = -1;
    o.ignore_checkpoints = true;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, &o));
    PT_ASSERT_INT_EQ(pond_delta_table_file_count(t), 3);
    pond_delta_table_free(t);
    pond_free(dir);
}

/* ------------------------------------------------------------------ paths */

static void test_path_encoding(void)
{
    static const char *const paths[] = {"a b/c%d.parquet", "x=1/y=é/part-0.parquet",
                                        "plain/part-00000.snappy.parquet", "q?#[]@!$&'()*+,;"};
    for (size_t i = 0; i < POND_ARRAY_LEN(paths); i++) {
        char *e, *d;
        PT_ASSERT_OK(pond_delta_path_encode(&e, paths[i]));
        PT_ASSERT(!strchr(e, ' ') && !strchr(e, '#') && !strchr(e, '?'));
        PT_ASSERT_OK(pond_delta_path_decode(&d, e));
        PT_ASSERT_STR_EQ(d, paths[i]);
        pond_free(e);
        pond_free(d);
    }
    char *d;
    PT_ASSERT_OK(pond_delta_path_decode(&d, "special%20p@%23h"));
    PT_ASSERT_STR_EQ(d, "special p@#h");
    pond_free(d);
    PT_ASSERT_OK(pond_delta_path_decode(&d, "test%25file%25prefix-part"));
    PT_ASSERT_STR_EQ(d, "test%file%prefix-part");
    pond_free(d);
    PT_ASSERT_ERR(pond_delta_path_decode(&d, "a%2"), POND_ECORRUPT);
    PT_ASSERT_ERR(pond_delta_path_decode(&d, "a%g0"), POND_ECORRUPT);
    PT_ASSERT_ERR(pond_delta_path_decode(&d, "%2Fetc"), POND_EUNSUPPORTED);
    PT_ASSERT_ERR(pond_delta_path_decode(&d, "s3://bucket/x"), POND_EUNSUPPORTED);
    PT_ASSERT_ERR(pond_delta_path_decode(&d, ".."), POND_ECORRUPT);
    PT_ASSERT_ERR(pond_delta_path_decode(&d, "a/./b"), POND_ECORRUPT);
    PT_ASSERT_ERR(pond_delta_path_decode(&d, "a/"), POND_ECORRUPT);
    PT_ASSERT(d == NULL);
}

/* ------------------------------------------------------------------ deletion vectors */

/* Test-side z85 encoder (the reader's decoder is what is under test). */
static void z85_encode(char *out, const uint8_t *b, size_t n)
{
    static const char a[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v =
            (uint32_t)b[i] << 24 | (uint32_t)b[i + 1] << 16 | (uint32_t)b[i + 2] << 8 | b[i + 3];
        for (int k = 4; k >= 0; k--) {
            out[i / 4 * 5 + (size_t)k] = a[v % 85];
            v /= 85;
        }
    }
    out[n / 4 * 5] = '\0';
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A one-bucket bitmap holding rows 3 and 70000 (two array containers), inline ('i'). */
static void test_inline_deletion_vector(void)
{
    uint8_t b[48] = {0};
    put_le(b, 1681511377u, 4); /* magic */
    put_le(b + 4, 1, 8);       /* buckets */
    put_le(b + 12, 0, 4);      /* bucket key (high 32 bits) */
    put_le(b + 16, 12346, 4);  /* cookie: no run containers */
    put_le(b + 20, 2, 4);      /* containers */
    put_le(b + 24, 0, 2);      /* container 0: key 0, cardinality 1 */
    put_le(b + 26, 0, 2);
    put_le(b + 28, 1, 2); /* container 1: key 1, cardinality 1 */
    put_le(b + 30, 0, 2);
    put_le(b + 32, 0, 4); /* offsets (skipped by readers) */
    put_le(b + 36, 0, 4);
    put_le(b + 40, 3, 2);             /* row 3 */
    put_le(b + 42, 70000 - 65536, 2); /* row 70000 */
    char z[61], commit[2048];
    z85_encode(z, b, 44);
    char *dir = mk_log_dir("t");
    for (int round = 0; round < 3; round++) {
        int card = round == 1 ? 3 : 2;
        if (round == 2)
            z[0] = '"' == z[0] ? 'a' : ' '; /* not a z85 character */
        snprintf(commit, sizeof commit,
                 PROTO META
                 "{\"add\":{\"path\":\"f\",\"partitionValues\":{},\"size\":1,"
                 "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":"
                 "70001}\",\"deletionVector\":{\"storageType\":\"i\",\"pathOrInlineDv\":\"%s\","
                 "\"sizeInBytes\":44,\"cardinality\":%d}}}\n",
                 z, card);
        write_text(dir, "_delta_log/00000000000000000000.json", commit);
        pond_delta_table *t;
        PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
        const pond_delta_file *f = pond_delta_table_file_lookup(t, "f");
        PT_ASSERT(f && f->deletion_vector);
        uint64_t *rows;
        size_t n;
        if (round == 0) {
            PT_ASSERT_OK(pond_delta_dv_read(&rows, &n, t, f));
            PT_ASSERT_INT_EQ(n, 2);
            PT_ASSERT_INT_EQ(rows[0], 3);
            PT_ASSERT_INT_EQ(rows[1], 70000);
            pond_free(rows);
        } else {
            PT_ASSERT_ERR(pond_delta_dv_read(&rows, &n, t, f), POND_ECORRUPT);
            PT_ASSERT_MSG_HAS(round == 1 ? "cardinality 3 != decoded 2" : "not valid z85");
        }
        pond_delta_table_free(t);
    }
    pond_free(dir);
}

/* ------------------------------------------------------------------ allocation faults */

static const char *g_fault_dir;

static int open_body(void *arg)
{
    (void)arg;
    pond_delta_table *t = NULL;
    int rc = pond_delta_table_open(&t, g_fault_dir, NULL);
    if (rc == 0) {
        if (pond_delta_table_file_count(t) != 2 || !pond_delta_table_file_lookup(t, "c d"))
            rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "wrong snapshot");
        pond_delta_table_free(t);
    }
    return rc;
}

static void test_alloc_faults_replay(void)
{
    char *dir = mk_log_dir("t");
    write_text(dir, "_delta_log/00000000000000000000.json", PROTO META ADD("a") ADD("b"));
    write_text(dir, "_delta_log/00000000000000000001.json",
               REMOVE("a") ADD("c%20d") "{\"txn\":{\"appId\":\"p\",\"version\":3}}\n");
    g_fault_dir = dir;
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, open_body, NULL);
    PT_ASSERT(steps > 20);
    pond_free(dir);
}

static int write_body(void *arg)
{
    const char *dir = arg;
    pond_delta_actions *a = NULL;
    int rc = build_v0(&a);
    if (rc == 0)
        rc = pond_delta_commit_write(dir, 0, a);
    pond_delta_actions_free(a);
    if (rc == 0) {
        /* succeeded: verify, then remove the commit so the next iteration starts clean */
        pond_delta_table *t = NULL;
        pond_alloc_fail_at(0, false);
        rc = pond_delta_table_open(&t, dir, NULL);
        pond_delta_table_free(t);
    }
    return rc;
}

static void test_alloc_faults_commit(void)
{
    char *dir = mk_table_dir("t");
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, write_body, dir);
    PT_ASSERT(steps > 10);
    PT_ASSERT(exists(dir, "_delta_log/00000000000000000000.json"));
    PT_ASSERT_INT_EQ(count_log_entries(dir, ".tmp"), 0);
    pond_free(dir);
}

/* ------------------------------------------------------------------ checkpoint writing */

typedef struct {
    pond_buf b;
    const pond_delta_table *t;
} desc_state;

/* A full description of one live file, for comparing snapshots. */
static int describe_file(const pond_delta_file *f, void *payload)
{
    desc_state *d = payload;
    const char *pv = NULL;
    int rc = pond_delta_file_partition_value(&pv, d->t, f, "part");
    if (rc < 0)
        return rc;
    return pond_buf_printf(&d->b, "%s|%s|%lld|%lld|%s|%s|%c:%s@%lld:%lld:%lld\n", f->path,
                           f->decoded_path, (long long)f->size, (long long)f->modification_time,
                           pv ? pv : "(null)", f->stats ? f->stats : "-",
                           f->deletion_vector ? f->deletion_vector->storage_type : '-',
                           f->deletion_vector ? f->deletion_vector->path_or_inline : "",
                           f->deletion_vector ? (long long)f->deletion_vector->offset : 0,
                           f->deletion_vector ? (long long)f->deletion_vector->size_in_bytes : 0,
                           f->deletion_vector ? (long long)f->deletion_vector->cardinality : 0);
}

static int cmp_line_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted description of a snapshot's files, txn and metadata (free with pond_free). */
static char *describe(const pond_delta_table *t)
{
    desc_state d = {POND_BUF_INIT, t};
    PT_ASSERT_OK(pond_delta_table_foreach_file(t, describe_file, &d));
    char *lines[64];
    size_t n = 0;
    for (char *s = d.b.ptr ? strtok(d.b.ptr, "\n") : NULL; s && n < 64; s = strtok(NULL, "\n"))
        lines[n++] = s;
    qsort(lines, n, sizeof *lines, cmp_line_ptr);
    pond_buf out = POND_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        pond_buf_printf(&out, "%s\n", lines[i]);
    int64_t tv = -1;
    (void)pond_delta_table_txn_version(&tv, t, "app");
    const pond_delta_metadata *m = pond_delta_table_metadata(t);
    pond_buf_printf(&out, "txn=%lld id=%s schema=%s parts=%zu proto=%d/%d\n", (long long)tv, m->id,
                    m->schema_string, m->n_partition_columns,
                    pond_delta_table_protocol(t)->min_reader_version,
                    pond_delta_table_protocol(t)->min_writer_version);
    pond_buf_dispose(&d.b);
    return pond_buf_detach(&out);
}

static void test_checkpoint_write(void)
{
    char *dir = mk_table_dir("t");
    pond_delta_actions *a;
    PT_ASSERT_OK(build_v0(&a));
    PT_ASSERT_OK(pond_delta_commit_write(dir, 0, a));
    pond_delta_actions_free(a);
    /* v1: remove f1 (a tombstone), add f3 with a txn */
    PT_ASSERT_OK(pond_delta_actions_new(&a));
    pond_delta_kv pv[] = {{"part", "x\ty\"z"}};
    pond_delta_file_desc rm = {POND_DELTA_FILE_DESC_VERSION,
                               "part=a b/f1.parquet",
                               NULL,
                               0,
                               -1,
                               0,
                               99,
                               true,
                               NULL,
                               NULL,
                               0};
    pond_delta_file_desc f3 = {POND_DELTA_FILE_DESC_VERSION,
                               "part=x/f 3.parquet",
                               pv,
                               1,
                               30,
                               7,
                               0,
                               true,
                               "{\"numRecords\":4,\"minValues\":{\"n\":-5}}",
                               NULL,
                               0};
    PT_ASSERT_OK(pond_delta_actions_remove(a, &rm));
    PT_ASSERT_OK(pond_delta_actions_add(a, &f3));
    PT_ASSERT_OK(pond_delta_actions_txn(a, "app", 42, 5));
    PT_ASSERT_OK(pond_delta_commit_write(dir, 1, a));
    pond_delta_actions_free(a);

    pond_delta_table *t, *t2;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    char *before = describe(t);
    PT_ASSERT_OK(pond_delta_checkpoint_write(t));
    PT_ASSERT_ERR(pond_delta_checkpoint_write(t), POND_EEXISTS);
    pond_delta_table_free(t);
    PT_ASSERT(exists(dir, "_delta_log/00000000000000000001.checkpoint.parquet"));
    PT_ASSERT_INT_EQ(count_log_entries(dir, ".tmp"), 0);
    char *lc = read_text(dir, "_delta_log/_last_checkpoint");
    PT_ASSERT(strstr(lc, "\"version\":1,") && strstr(lc, "\"numOfAddFiles\":2"));
    pond_free(lc);

    /* the snapshot rebuilt from the checkpoint equals the one replayed from JSON */
    PT_ASSERT_OK(pond_delta_table_open(&t2, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(t2), 1);
    PT_ASSERT_STR_EQ(pond_delta_table_checkpoint_kind(t2), "classic");
    PT_ASSERT_INT_EQ(pond_delta_table_commits_replayed(t2), 0);
    char *after = describe(t2);
    PT_ASSERT_STR_EQ(after, before);
    pond_delta_table_free(t2);
    pond_free(after);

    /* the JSON history before the checkpoint is no longer needed */
    char *p0 = join(dir, "_delta_log/00000000000000000000.json");
    char *p1 = join(dir, "_delta_log/00000000000000000001.json");
    PT_ASSERT(unlink(p0) == 0 && unlink(p1) == 0);
    PT_ASSERT_OK(build_v0(&a)); /* reuse: a later commit re-adds f1 */
    pond_delta_actions_free(a);
    PT_ASSERT_OK(pond_delta_actions_new(&a));
    pond_delta_kv pv1[] = {{"part", "a b"}};
    pond_delta_file_desc f1 = {
        POND_DELTA_FILE_DESC_VERSION, "part=a b/f1.parquet", pv1, 1, 11, 8, 0, true, NULL, NULL, 0};
    PT_ASSERT_OK(pond_delta_actions_add(a, &f1));
    PT_ASSERT_OK(pond_delta_commit_write(dir, 2, a));
    pond_delta_actions_free(a);
    PT_ASSERT_OK(pond_delta_table_open(&t2, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_version(t2), 2);
    PT_ASSERT_INT_EQ(pond_delta_table_commits_replayed(t2), 1);
    PT_ASSERT_INT_EQ(pond_delta_table_file_count(t2), 3);
    PT_ASSERT_INT_EQ(pond_delta_table_file_lookup(t2, "part=a b/f1.parquet")->size, 11);
    pond_delta_table_free(t2);
    pond_free(p0);
    pond_free(p1);
    pond_free(before);
    pond_free(dir);
}

/* Pond's own checkpoints read through the columns give exactly the snapshot the former
 * jansson conversion gave: live files with partition values (some null), tags, stats (some
 * absent, some not ASCII), tombstones, a txn. */
static void test_checkpoint_columns_equal_json(void)
{
    char *dir = mk_table_dir("t");
    pond_delta_actions *a;
    PT_ASSERT_OK(build_v0(&a));
    PT_ASSERT_OK(pond_delta_commit_write(dir, 0, a));
    pond_delta_actions_free(a);
    PT_ASSERT_OK(pond_delta_actions_new(&a));
    pond_delta_file_desc rm = {POND_DELTA_FILE_DESC_VERSION,
                               "part=a b/f1.parquet",
                               NULL,
                               0,
                               -1,
                               0,
                               99,
                               true,
                               NULL,
                               NULL,
                               0};
    PT_ASSERT_OK(pond_delta_actions_remove(a, &rm));
    for (int i = 0; i < 300; i++) {
        char path[64], val[32], stats[96];
        snprintf(path, sizeof path, "part=%d/f %d\xc3\xa9.parquet", i % 7, i);
        snprintf(val, sizeof val, "%d", i % 7);
        snprintf(stats, sizeof stats,
                 "{\"numRecords\":%d,\"minValues\":{\"n\":\"\xe2\x82\xac%d\"}}", i, i);
        pond_delta_kv pv[] = {{"part", i % 5 ? val : NULL}};
        pond_delta_kv tags[] = {{"pond.sha256", "abc"}, {"part_id", val}};
        pond_delta_file_desc f = {POND_DELTA_FILE_DESC_VERSION,
                                  path,
                                  pv,
                                  1,
                                  1000 + i,
                                  i,
                                  0,
                                  true,
                                  i % 3 ? stats : NULL,
                                  tags,
                                  (size_t)(i % 3)};
        PT_ASSERT_OK(pond_delta_actions_add(a, &f));
    }
    PT_ASSERT_OK(pond_delta_actions_txn(a, "app", 42, 5));
    PT_ASSERT_OK(pond_delta_commit_write(dir, 1, a));
    pond_delta_actions_free(a);
    pond_delta_table *t;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_OK(pond_delta_checkpoint_write(t));
    pond_delta_table_free(t);
    for (int skip = 0; skip < 2; skip++) {
        pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
        o.skip_stats = skip;
        pond_delta_table *direct, *oracle, *replayed;
        PT_ASSERT_OK(pond_delta_table_open(&direct, dir, &o));
        PT_ASSERT_OK(pond_delta__table_open_ex(&oracle, dir, &o, true));
        PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(direct), 1);
        PT_ASSERT_INT_EQ(pond_delta_table_file_count(direct), 301);
        pond_buf diff = POND_BUF_INIT;
        PT_ASSERT_OK(pond_delta__snapshot_diff(&diff, direct, oracle));
        PT_ASSERT_STR_EQ(diff.ptr ? diff.ptr : "", "");
        /* and what the commits say, file by file (the comparison of test_checkpoint_write) */
        o.ignore_checkpoints = true;
        PT_ASSERT_OK(pond_delta_table_open(&replayed, dir, &o));
        const pond_delta_file *f =
            pond_delta_table_file_lookup(direct, "part=3/f 10\xc3\xa9.parquet");
        const pond_delta_file *g =
            pond_delta_table_file_lookup(replayed, "part=3/f 10\xc3\xa9.parquet");
        PT_ASSERT(f && g);
        PT_ASSERT_STR_EQ(f->path, g->path);
        PT_ASSERT_INT_EQ(f->size, 1010);
        PT_ASSERT_INT_EQ(f->n_tags, 1);
        PT_ASSERT_STR_EQ(f->tags[0].value, "abc");
        PT_ASSERT_INT_EQ(f->n_partition_values, 1);
        PT_ASSERT(f->partition_values[0].value == NULL);
        if (!skip)
            PT_ASSERT_STR_EQ(f->stats, g->stats);
        else
            PT_ASSERT(f->stats == NULL);
        pond_buf_dispose(&diff);
        pond_delta_table_free(direct);
        pond_delta_table_free(oracle);
        pond_delta_table_free(replayed);
    }
    pond_free(dir);
}

static void test_checkpoint_write_faults(void)
{
    pond_os_call calls[] = {POND_OS_WRITE, POND_OS_FSYNC, POND_OS_LINK};
    for (size_t i = 0; i < POND_ARRAY_LEN(calls); i++) {
        char name[16];
        snprintf(name, sizeof name, "t%zu", i);
        char *dir = mk_table_dir(name);
        pond_delta_actions *a;
        PT_ASSERT_OK(build_v0(&a));
        PT_ASSERT_OK(pond_delta_commit_write(dir, 0, a));
        pond_delta_actions_free(a);
        pond_delta_table *t;
        PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
        pond_os_fault_at(calls[i], 1, POND_FAULT_ERRNO, EIO, false);
        int rc = pond_delta_checkpoint_write(t);
        bool fired = pond_os_fault_fired();
        pond_os_fault_clear();
        PT_ASSERT(fired && rc < 0);
        PT_ASSERT(!exists(dir, "_delta_log/00000000000000000000.checkpoint.parquet"));
        PT_ASSERT_INT_EQ(count_log_entries(dir, ".tmp"), 0);
        PT_ASSERT_OK(pond_delta_checkpoint_write(t));
        pond_delta_table_free(t);
        pond_free(dir);
    }
}

static int checkpoint_cycle_body(void *arg)
{
    const char *dir = arg;
    pond_delta_table *t = NULL, *t2 = NULL;
    bool written = false;
    int rc = pond_delta_table_open(&t, dir, NULL);
    if (rc == 0)
        written = (rc = pond_delta_checkpoint_write(t)) == 0;
    if (rc == 0)
        rc = pond_delta_table_open(&t2, dir, NULL);
    if (rc == 0 &&
        (pond_delta_table_checkpoint_version(t2) != 0 || pond_delta_table_file_count(t2) != 2))
        rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "wrong snapshot from the checkpoint");
    pond_delta_table_free(t);
    pond_delta_table_free(t2);
    if (written) {
        /* start the next round from scratch, also when reading it back failed (the checkpoint
         * is durable then); no allocation here, so the fault loop still sees what fired */
        char p[4200];
        snprintf(p, sizeof p, "%s/_delta_log/00000000000000000000.checkpoint.parquet", dir);
        unlink(p);
    }
    return rc;
}

/* Every allocation of a checkpoint write and of the open that reads it back fails cleanly
 * (light runs, valgrind: every fourth of its ~2,500; the plain and ASan runs take them all). */
static void test_alloc_faults_checkpoint(void)
{
    char *dir = mk_table_dir("t");
    pond_delta_actions *a;
    PT_ASSERT_OK(build_v0(&a));
    PT_ASSERT_OK(pond_delta_commit_write(dir, 0, a));
    pond_delta_actions_free(a);
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP_STRIDE(steps, pt_light() ? 4 : 1, checkpoint_cycle_body, dir);
    printf("    checkpoint write + reopen: %llu allocation steps\n", (unsigned long long)steps);
    PT_ASSERT(steps > 100);
    PT_ASSERT_INT_EQ(count_log_entries(dir, ".tmp"), 0);
    pond_free(dir);
}

static void test_latest_version(void)
{
    char *dir = mk_log_dir("t");
    int64_t v;
    PT_ASSERT_ERR(pond_delta_latest_version(&v, dir), POND_ENOTFOUND);
    write_text(dir, "_delta_log/00000000000000000000.json", PROTO META);
    write_text(dir, "_delta_log/00000000000000000007.json", ADD("x"));
    write_text(dir, "_delta_log/00000000000000000009.checkpoint.parquet", "x");
    write_text(dir, "_delta_log/.tmp-00000000000000000008-1-1.json", "x");
    PT_ASSERT_OK(pond_delta_latest_version(&v, dir));
    PT_ASSERT_INT_EQ(v, 7);
    pond_free(dir);
}

PT_SUITE(delta, PT_TEST(commit_roundtrip), PT_TEST(commit_conflict),
         PT_TEST(writer_rejects_bad_input), PT_TEST(commit_fault_injection),
         PT_TEST(replay_add_remove), PT_TEST(replay_deletion_vectors), PT_TEST(replay_rejects),
         PT_TEST(replay_version_gaps), PT_TEST(last_checkpoint_fallbacks),
         PT_TEST(v2_json_checkpoint), PT_TEST(parquet_checkpoint_choice), PT_TEST(path_encoding),
         PT_TEST(inline_deletion_vector), PT_TEST(alloc_faults_replay),
         PT_TEST(alloc_faults_commit), PT_TEST(latest_version), PT_TEST(checkpoint_write),
         PT_TEST(checkpoint_columns_equal_json), PT_TEST(checkpoint_write_faults),
         PT_TEST(alloc_faults_checkpoint))
