/* Names, paths and single-name glob patterns: the parsers of tinyfs (fuzzed). */
#include "tinyfs/tinyfs_internal.h"

#include <stdio.h>
#include <string.h>

void pond_tinyfs__quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 8 >= cap) {
            if (o + 4 <= cap) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = pond__hexdigit(c >> 4);
            out[o++] = pond__hexdigit(c);
        }
    }
    out[o < cap ? o : cap - 1] = '\0';
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp_out)
{
    unsigned char c = s[0];
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *cp_out = cp;
    return len;
}

const char *pond_tinyfs__name_problem(const char *name, size_t len, char why[64])
{
    if (len == 0)
        return "empty";
    if (len > TINYFS_NAME_MAX)
        return "longer than 255 bytes";
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return "'.' and '..' are reserved";
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (name[i] == '/')
            return "contains '/'";
        if (name[i] == '\0')
            return "contains a NUL byte";
        size_t n = utf8_len((const unsigned char *)name + i, len - i, &cp);
        if (!n) {
            snprintf(why, 64, "not valid UTF-8 at byte %zu", i);
            return why;
        }
        i += n;
    }
    return NULL;
}

int pond_name_validate(const char *name, size_t len)
{
    if (!name)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid name: NULL");
    char buf[64], q[300];
    const char *why = pond_tinyfs__name_problem(name, len, buf);
    if (!why)
        return 0;
    pond_tinyfs__quote(q, sizeof q, name, POND_MIN(len, (size_t)80));
    return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid name '%s': %s", q, why);
}

/* Append the components of p (absolute or relative) to out, which holds a normalised absolute
 * path without trailing slash ("" for the root). */
static int push_components(pond_buf *out, const char *p, size_t len, bool *dir_out)
{
    size_t i = 0;
    bool dir = false;
    while (i < len) {
        while (i < len && p[i] == '/')
            i++;
        if (i >= len) {
            dir = true;
            break;
        }
        size_t s = i;
        while (i < len && p[i] != '/')
            i++;
        size_t n = i - s;
        dir = false;
        if (n == 1 && p[s] == '.') {
            dir = true;
            continue;
        }
        if (n == 2 && p[s] == '.' && p[s + 1] == '.') {
            dir = true;
            size_t k = out->size;
            while (k > 0 && out->ptr[k - 1] != '/')
                k--;
            out->size = k ? k - 1 : 0;
            if (out->ptr)
                out->ptr[out->size] = '\0';
            continue;
        }
        int error = pond_name_validate(p + s, n);
        if (error < 0)
            return error;
        if ((error = pond_buf_putc(out, '/')) < 0 || (error = pond_buf_put(out, p + s, n)) < 0)
            return error;
    }
    if (dir_out)
        *dir_out = dir;
    return 0;
}

int pond_path_normalize(char **out, bool *dir_out, const char *base, const char *path)
{
    POND_ASSERT_ARG(out);
    *out = NULL;
    if (dir_out)
        *dir_out = false;
    if (!path)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid path: NULL");
    size_t len = strnlen(path, TINYFS_PATH_MAX + 1);
    if (len == 0)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid path: empty");
    if (len > TINYFS_PATH_MAX)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid path: longer than %d bytes",
                              TINYFS_PATH_MAX);
    pond_buf b = POND_BUF_INIT;
    int error = 0;
    if (path[0] != '/' && base)
        error = push_components(&b, base, strlen(base), NULL);
    if (error == 0)
        error = push_components(&b, path, len, dir_out);
    if (error == 0 && b.size > TINYFS_PATH_MAX)
        error = pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid path: longer than %d bytes",
                               TINYFS_PATH_MAX);
    if (error == 0 && b.size == 0)
        error = pond_buf_putc(&b, '/');
    if (error < 0) {
        if (error != POND_ENOMEM && error != POND_EINVALID)
            error = POND_EINVALID;
        pond_buf_dispose(&b);
        return error;
    }
    *out = pond_buf_detach(&b);
    return 0;
}

int pond_tinyfs__split(char **parent_out, const char **name_out, const char *abs_path)
{
    const char *slash = strrchr(abs_path, '/');
    if (!slash || slash[1] == '\0')
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "'%s' has no parent", abs_path);
    *name_out = slash + 1;
    *parent_out =
        slash == abs_path ? pond_strdup("/") : pond_strndup(abs_path, (size_t)(slash - abs_path));
    return *parent_out ? 0 : POND_ENOMEM;
}

/* ---- single-name patterns ----------------------------------------------------------------- */

enum { TOK_LIT, TOK_ANY, TOK_STAR, TOK_CLASS };

typedef struct {
    int kind;
    bool negate;
    size_t off, len; /* LIT: bytes in text; CLASS: ranges */
    size_t cap;      /* capture index (ANY, STAR, CLASS) */
} glob_tok;

struct pond_glob_pat {
    char *text;
    glob_tok *toks;
    size_t n_toks;
    uint32_t (*ranges)[2];
    size_t n_ranges;
    size_t n_caps;
};

void pond_glob_pat_free(pond_glob_pat *p)
{
    if (!p)
        return;
    pond_free(p->text);
    pond_free(p->toks);
    pond_free(p->ranges);
    pond_free(p);
}

size_t pond_glob_pat_captures(const pond_glob_pat *p) { return p->n_caps; }

static int pat_err(const char *text, size_t len, const char *why)
{
    char q[200];
    pond_tinyfs__quote(q, sizeof q, text, POND_MIN(len, (size_t)100));
    return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid glob pattern '%s': %s", q, why);
}

/* One (possibly escaped) code point of a class at text[*i]. */
static int class_char(uint32_t *cp, const char *text, size_t len, size_t *i)
{
    if (text[*i] == '\\' && *i + 1 < len)
        (*i)++;
    size_t n = utf8_len((const unsigned char *)text + *i, len - *i, cp);
    if (!n)
        return pat_err(text, len, "not valid UTF-8");
    *i += n;
    return 0;
}

int pond_glob_pat_compile(pond_glob_pat **out, const char *text, size_t len)
{
    POND_ASSERT_ARG(out && (text || len == 0));
    *out = NULL;
    if (len > TINYFS_PATH_MAX)
        return pat_err(text, len, "too long");
    pond_glob_pat *p = pond_calloc(1, sizeof *p);
    int error = POND_ENOMEM;
    if (!p)
        return error;
    /* Upper bounds: one token and one range per pattern byte. */
    if (!(p->text = pond_malloc(len + 1)) || !(p->toks = pond_calloc(len + 1, sizeof *p->toks)) ||
        !(p->ranges = pond_calloc(len + 1, sizeof *p->ranges)))
        goto fail;
    size_t tl = 0;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        glob_tok *t = &p->toks[p->n_toks];
        if (c == '/' || c == '\0') {
            error = pat_err(text, len, c == '/' ? "contains '/'" : "contains a NUL byte");
            goto fail;
        }
        if (c == '*') {
            i++;
            if (p->n_toks && p->toks[p->n_toks - 1].kind == TOK_STAR)
                continue; /* '**' inside a name is one '*' */
            *t = (glob_tok){TOK_STAR, false, 0, 0, p->n_caps++};
            p->n_toks++;
        } else if (c == '?') {
            i++;
            *t = (glob_tok){TOK_ANY, false, 0, 0, p->n_caps++};
            p->n_toks++;
        } else if (c == '[') {
            size_t j = i + 1;
            bool neg = false;
            if (j < len && (text[j] == '!' || text[j] == '^')) {
                neg = true;
                j++;
            }
            size_t first = p->n_ranges;
            bool first_item = true;
            while (j < len && (text[j] != ']' || first_item)) {
                uint32_t lo, hi;
                if (text[j] == '/' || text[j] == '\0') {
                    error = pat_err(text, len, "bad character in '[...]'");
                    goto fail;
                }
                if ((error = class_char(&lo, text, len, &j)) < 0)
                    goto fail;
                hi = lo;
                if (j + 1 < len && text[j] == '-' && text[j + 1] != ']') {
                    j++;
                    if ((error = class_char(&hi, text, len, &j)) < 0)
                        goto fail;
                    if (hi < lo) {
                        error = pat_err(text, len, "reversed range in '[...]'");
                        goto fail;
                    }
                }
                p->ranges[p->n_ranges][0] = lo;
                p->ranges[p->n_ranges][1] = hi;
                p->n_ranges++;
                first_item = false;
            }
            if (j >= len) {
                error = pat_err(text, len, "unterminated '['");
                goto fail;
            }
            i = j + 1;
            *t = (glob_tok){TOK_CLASS, neg, first, p->n_ranges - first, p->n_caps++};
            p->n_toks++;
        } else {
            if (c == '\\' && i + 1 < len)
                i++;
            if (p->n_toks && p->toks[p->n_toks - 1].kind == TOK_LIT) {
                p->toks[p->n_toks - 1].len++;
            } else {
                *t = (glob_tok){TOK_LIT, false, tl, 1, 0};
                p->n_toks++;
            }
            p->text[tl++] = text[i++];
        }
    }
    p->text[tl] = '\0';
    *out = p;
    return 0;
fail:
    pond_glob_pat_free(p);
    return error;
}

/* Code point at name[i] (an invalid byte counts as one character). */
static size_t next_char(const char *name, size_t len, size_t i, uint32_t *cp)
{
    size_t n = utf8_len((const unsigned char *)name + i, len - i, cp);
    if (!n) {
        *cp = 0xfffd;
        n = 1;
    }
    return n;
}

static bool tok_match(const pond_glob_pat *p, const glob_tok *t, const char *name, size_t len,
                      size_t i, size_t *next)
{
    if (t->kind == TOK_LIT) {
        if (len - i < t->len || memcmp(name + i, p->text + t->off, t->len) != 0)
            return false;
        *next = i + t->len;
        return true;
    }
    if (i >= len)
        return false;
    uint32_t cp;
    size_t n = next_char(name, len, i, &cp);
    if (t->kind == TOK_CLASS) {
        bool in = false;
        for (size_t r = t->off; r < t->off + t->len && !in; r++)
            in = cp >= p->ranges[r][0] && cp <= p->ranges[r][1];
        if (in == t->negate)
            return false;
    }
    *next = i + n;
    return true;
}

int pond_glob_pat_match(const pond_glob_pat *p, const char *name, size_t len, size_t (*caps)[2],
                        size_t cap_cap, size_t *n_caps_out)
{
    /* Classic single-backtrack matching: only the most recent '*' ever needs to grow, so the
     * cost is O(len * tokens) and captures of earlier stars stay shortest-first. */
    size_t ti = 0, i = 0, star_ti = SIZE_MAX, star_i = 0;
    if (n_caps_out)
        *n_caps_out = POND_MIN(p->n_caps, cap_cap);
    for (;;) {
        if (ti < p->n_toks) {
            const glob_tok *t = &p->toks[ti];
            size_t nx;
            if (t->kind == TOK_STAR) {
                if (t->cap < cap_cap)
                    caps[t->cap][0] = caps[t->cap][1] = i;
                star_ti = ti++;
                star_i = i;
                continue;
            }
            if (tok_match(p, t, name, len, i, &nx)) {
                if (t->kind != TOK_LIT && t->cap < cap_cap) {
                    caps[t->cap][0] = i;
                    caps[t->cap][1] = nx;
                }
                i = nx;
                ti++;
                continue;
            }
        } else if (i == len) {
            return 1;
        }
        if (star_ti == SIZE_MAX || star_i >= len)
            return 0;
        uint32_t cp;
        star_i += next_char(name, len, star_i, &cp);
        if (p->toks[star_ti].cap < cap_cap)
            caps[p->toks[star_ti].cap][1] = star_i;
        i = star_i;
        ti = star_ti + 1;
    }
}
