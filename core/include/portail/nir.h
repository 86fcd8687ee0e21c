/* French social-security number (NIR, "numéro de sécurité sociale"):
 * 1 digit sex, 2 digits year of birth, 2 digits month, 2 characters
 * department of birth (2A/2B for Corsica), 3 digits commune, 3 digits order
 * number, then a 2-digit key. Shared by the modules that take a NIR. */
#ifndef PORTAIL_NIR_H
#define PORTAIL_NIR_H

/* Strips spaces (only spaces: anything else is an error), uppercases, checks
 * the shape (13 digits, 2A/2B allowed as department, 2-digit key). out gets
 * the 15 characters and a NUL. 0, or -1 with out set to "". */
int portail_nir_normalize(const char *in, char out[16]);

/* Checks a normalised NIR: shape, sex digit (1, 2, or 7, 8 for temporary
 * numbers), month, key and, when birth_date ("YYYY-MM-DD") is given, the
 * year and month of birth. 0 valid; -1 with a French message in
 * *field_error (static storage). field_error may be NULL. */
int portail_nir_check(const char *nir15, const char *birth_date, const char **field_error);

/* Key of the first 13 characters of a NIR (2A counts as 19, 2B as 18): two
 * digits and a NUL. "" when nir13 is not of the right shape. */
void portail_nir_key(const char *nir13, char key[3]);

#endif
