/* Error-handling conventions shared by every perfagg module.
 *
 * A fallible function returns int: 0 on success, -1 on failure, and is marked
 * PA_MUST_USE so a caller cannot silently drop a failure. Inside a function,
 * PA_GUARD propagates a failure and PA_ENSURE turns a broken precondition into
 * one; functions that own resources use a single `cleanup:` label instead. */
#ifndef PA_RESULT_H
#define PA_RESULT_H

#define PA_MUST_USE __attribute__((warn_unused_result))
#define PA_NONNULL __attribute__((nonnull))

#define PA_GUARD(x)                                                            \
    do {                                                                       \
        if ((x) != 0)                                                          \
            return -1;                                                         \
    } while (0)

#define PA_ENSURE(cond)                                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            return -1;                                                         \
    } while (0)

/* Same as PA_GUARD / PA_ENSURE but jump to the function's cleanup label. */
#define PA_GUARD_GOTO(x, label)                                                \
    do {                                                                       \
        if ((x) != 0)                                                          \
            goto label;                                                        \
    } while (0)

#define PA_ENSURE_GOTO(cond, label)                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            goto label;                                                        \
    } while (0)

#define PA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
