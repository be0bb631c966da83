/* queue.h: first-in first-out lists of structures linked through a field,
 * kept as a head and a tail pointer; both NULL is the empty queue, so a
 * zeroed structure holds one ready to use. Also doubly linked lists an
 * item leaves in O(1), with or without a tail. Used by the guest kernel and
 * the monitor alike. The head and tail arguments are evaluated more than
 * once: pass plain lvalues.
 */
#ifndef FRESCO_QUEUE_H
#define FRESCO_QUEUE_H

#include <stddef.h>

/* Put (item) at the end of the queue. */
#define QUEUE_APPEND(head, tail, item, link)   \
	do {                                   \
		(item)->link = NULL;           \
		if (tail)                      \
			(tail)->link = (item); \
		else                           \
			(head) = (item);       \
		(tail) = (item);               \
	} while (0)

/* Take the first item off a queue that has one (the caller read it from
 * (head) first). */
#define QUEUE_DROP_FIRST(head, tail, link) \
	do {                               \
		(head) = (head)->link;     \
		if (!(head))               \
			(tail) = NULL;     \
	} while (0)

/* Lists whose items know the link that points at them (pprev), so that
 * any item leaves at once; NULL pprev: in no list. (head) is the list's
 * own pointer, which must outlive its items' membership. */
#define LIST_PUSH(head, item, next, pprev)             \
	do {                                           \
		(item)->next = (head);                 \
		if (head)                              \
			(head)->pprev = &(item)->next; \
		(head) = (item);                       \
		(item)->pprev = &(head);               \
	} while (0)

#define LIST_UNLINK(item, next, pprev)                       \
	do {                                                 \
		*(item)->pprev = (item)->next;               \
		if ((item)->next)                            \
			(item)->next->pprev = (item)->pprev; \
		(item)->next = NULL;                         \
		(item)->pprev = NULL;                        \
	} while (0)

/* Lists with a head and a tail whose items link both ways (next, prev):
 * an item joins at either end and leaves from anywhere in O(1). Both
 * NULL is the empty list. */
#define DLIST_APPEND(head, tail, item, next, prev) \
	do {                                       \
		(item)->next = NULL;               \
		(item)->prev = (tail);             \
		if (tail)                          \
			(tail)->next = (item);     \
		else                               \
			(head) = (item);           \
		(tail) = (item);                   \
	} while (0)

#define DLIST_PREPEND(head, tail, item, next, prev) \
	do {                                        \
		(item)->prev = NULL;                \
		(item)->next = (head);              \
		if (head)                           \
			(head)->prev = (item);      \
		else                                \
			(tail) = (item);            \
		(head) = (item);                    \
	} while (0)

#define DLIST_UNLINK(head, tail, item, next, prev)         \
	do {                                               \
		if ((item)->prev)                          \
			(item)->prev->next = (item)->next; \
		else                                       \
			(head) = (item)->next;             \
		if ((item)->next)                          \
			(item)->next->prev = (item)->prev; \
		else                                       \
			(tail) = (item)->prev;             \
		(item)->next = (item)->prev = NULL;        \
	} while (0)

#endif
