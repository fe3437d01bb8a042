/*
 * chat_text.h - what the prompt flatteners read off a client's message
 * the same way: whether it is system text (system or developer), whether
 * it has any text, and its text parts joined with "\n" (empty ones and
 * other parts skipped).
 */
#ifndef UPSTREAM_CHAT_TEXT_H
#define UPSTREAM_CHAT_TEXT_H

struct buf;
struct chat_message;

int	 chat_text_system(const struct chat_message *);
int	 chat_text_any(const struct chat_message *);
void	 chat_text_join(struct buf *, const struct chat_message *);

#endif
