/* The snapshot arena: strings and arrays that live as long as a snapshot. */
#include "delta/delta_internal.h"

#include <string.h>
