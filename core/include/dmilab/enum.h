/* dmilab: enums whose C identifiers and API names come from one X-macro list X(id, "name"), so that a
 * name table can never fall out of step with its enum. */
#ifndef DMILAB_ENUM_H
#define DMILAB_ENUM_H

/** Expands an X-macro list into enumerators: `typedef enum { LIST(DML_ENUM_ID) N } t;`. */
#define DML_ENUM_ID(id, name) id,
/** Expands an X-macro list into its names: `static const char *const names[] = {LIST(DML_ENUM_NAME)};`. */
#define DML_ENUM_NAME(id, name) name,
/** Expands an X-macro list into its length: `enum { N = 0 LIST(DML_ENUM_COUNT) };` (a separate constant, not
 *  an enumerator, so that switches over the enum stay exhaustive). */
#define DML_ENUM_COUNT(id, name) +1

#endif
