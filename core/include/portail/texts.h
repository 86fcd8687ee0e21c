/* The API's messages in French. Made by script/texts from texts/fr.json:
 * edit that file, then run script/texts (texts/README.md); never edit this
 * one. A message with values keeps printf's conversions (%s, %d, ...) in the
 * order of its arguments. */
#ifndef PORTAIL_TEXTS_H
#define PORTAIL_TEXTS_H

/* One line a message, as long as it is: grep finds it. */
/* clang-format off */

/* clang-format on */

#endif
