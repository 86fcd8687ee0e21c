/* Demo insured persons. The data is generated, not stored, so that any count
 * can be asked for; a fixed-seed generator keeps it identical from one run
 * (and one machine) to the next, so tests and demos can rely on who exists.
 * Communes are real, with their INSEE code (which goes into the NIR), postal
 * code and the CPAM of their department. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "portail/nir.h"
#include "portail/practitioners.h"
#include "portail/validate.h"
#include "seed.h"

typedef struct commune {
    const char *city;  /* as written in a postal address */
    const char *birth; /* as written for a place of birth */
    const char *insee; /* department (2 characters) + commune (3 digits) */
    const char *postal;
    const char *fund;
} commune_t;

static const commune_t communes[] = {
    {"Bordeaux", "Bordeaux", "33063", "33000", "CPAM de la Gironde"},
    {"Mérignac", "Mérignac", "33281", "33700", "CPAM de la Gironde"},
    {"Pessac", "Pessac", "33318", "33600", "CPAM de la Gironde"},
    {"Talence", "Talence", "33522", "33400", "CPAM de la Gironde"},
    {"Arcachon", "Arcachon", "33009", "33120", "CPAM de la Gironde"},
    {"Paris", "Paris 15e Arrondissement", "75115", "75015", "CPAM de Paris"},
    {"Paris", "Paris 11e Arrondissement", "75111", "75011", "CPAM de Paris"},
    {"Lyon", "Lyon 3e Arrondissement", "69383", "69003", "CPAM du Rhône"},
    {"Villeurbanne", "Villeurbanne", "69266", "69100", "CPAM du Rhône"},
    {"Marseille", "Marseille 8e Arrondissement", "13208", "13008", "CPAM des Bouches-du-Rhône"},
    {"Aix-en-Provence", "Aix-en-Provence", "13001", "13100", "CPAM des Bouches-du-Rhône"},
    {"Toulouse", "Toulouse", "31555", "31000", "CPAM de la Haute-Garonne"},
    {"Nantes", "Nantes", "44109", "44000", "CPAM de la Loire-Atlantique"},
    {"Lille", "Lille", "59350", "59000", "CPAM de Lille-Douai"},
    {"Strasbourg", "Strasbourg", "67482", "67000", "CPAM du Bas-Rhin"},
    {"Montpellier", "Montpellier", "34172", "34000", "CPAM de l’Hérault"},
    {"Rennes", "Rennes", "35238", "35000", "CPAM d'Ille-et-Vilaine"},
    {"Nice", "Nice", "06088", "06000", "CPAM des Alpes-Maritimes"},
    {"Ajaccio", "Ajaccio", "2A004", "20000", "CPAM de la Corse-du-Sud"},
    {"Porto-Vecchio", "Porto-Vecchio", "2A247", "20137", "CPAM de la Corse-du-Sud"},
    {"Bastia", "Bastia", "2B033", "20200", "CPAM de la Haute-Corse"},
    {"Corte", "Corte", "2B096", "20250", "CPAM de la Haute-Corse"},
    {"Calvi", "Calvi", "2B050", "20260", "CPAM de la Haute-Corse"},
    {"Grenoble", "Grenoble", "38185", "38000", "CPAM de l’Isère"},
    {"Dijon", "Dijon", "21231", "21000", "CPAM de la Côte-d’Or"},
    {"Angers", "Angers", "49007", "49000", "CPAM de Maine-et-Loire"},
    {"Reims", "Reims", "51454", "51100", "CPAM de la Marne"},
    {"Brest", "Brest", "29019", "29200", "CPAM du Finistère"},
    {"Quimper", "Quimper", "29232", "29000", "CPAM du Finistère"},
    {"Limoges", "Limoges", "87085", "87000", "CPAM de la Haute-Vienne"},
    {"Clermont-Ferrand", "Clermont-Ferrand", "63113", "63000", "CPAM du Puy-de-Dôme"},
    {"Tours", "Tours", "37261", "37000", "CPAM d'Indre-et-Loire"},
    {"Orléans", "Orléans", "45234", "45000", "CPAM du Loiret"},
    {"Poitiers", "Poitiers", "86194", "86000", "CPAM de la Vienne"},
    {"Besançon", "Besançon", "25056", "25000", "CPAM du Doubs"},
    {"Nancy", "Nancy", "54395", "54000", "CPAM de Meurthe-et-Moselle"},
    {"Metz", "Metz", "57463", "57000", "CPAM de Moselle"},
    {"Caen", "Caen", "14118", "14000", "CPAM du Calvados"},
    {"Amiens", "Amiens", "80021", "80000", "CPAM de la Somme"},
    {"Saint-Étienne", "Saint-Étienne", "42218", "42000", "CPAM de la Loire"},
    {"Annecy", "Annecy", "74010", "74000", "CPAM de la Haute-Savoie"},
    {"Perpignan", "Perpignan", "66136", "66000", "CPAM des Pyrénées-Orientales"},
    {"Nîmes", "Nîmes", "30189", "30000", "CPAM du Gard"},
    {"Avignon", "Avignon", "84007", "84000", "CPAM de Vaucluse"},
    {"La Rochelle", "La Rochelle", "17300", "17000", "CPAM de la Charente-Maritime"},
    {"Versailles", "Versailles", "78646", "78000", "CPAM des Yvelines"},
    {"Créteil", "Créteil", "94028", "94000", "CPAM du Val-de-Marne"},
    {"Saint-Denis", "Saint-Denis", "93066", "93200", "CPAM de la Seine-Saint-Denis"},
    {"Nanterre", "Nanterre", "92050", "92000", "CPAM des Hauts-de-Seine"},
    {"Bayonne", "Bayonne", "64102", "64100", "CPAM de Bayonne"},
};

static const char *const women[] = {
    "Marie",       "Élodie",       "Gaëlle",  "Bénédicte", "Camille",  "Léa",       "Chloé",
    "Manon",       "Inès",         "Sophie",  "Nathalie",  "Isabelle", "Sylvie",    "Céline",
    "Hélène",      "Aurélie",      "Anaïs",   "Zoé",       "Maëlle",   "Noémie",    "Amélie",
    "Laëtitia",    "Clémence",     "Agnès",   "Françoise", "Thérèse",  "Geneviève", "Lucie",
    "Océane",      "Jeanne",       "Margaux", "Émilie",    "Mélanie",  "Valérie",   "Brigitte",
    "Anne-Sophie", "Marie-Hélène", "Fatima",  "Yasmine",   "Awa",
};

static const char *const men[] = {
    "François", "Jean",     "Pierre",   "Nicolas",       "Julien",    "Thomas",  "Benoît",
    "Jérôme",   "Stéphane", "Frédéric", "Grégoire",      "Loïc",      "Gaël",    "Joël",
    "Noël",     "Hervé",    "René",     "André",         "Théo",      "Lucas",   "Mathéo",
    "Léo",      "Raphaël",  "Clément",  "Sébastien",     "Cédric",    "Rémi",    "Aurélien",
    "Maxime",   "Hugo",     "Étienne",  "Jean-François", "Jean-Marc", "Yannick", "Olivier",
    "Michel",   "Karim",    "Mamadou",  "Minh",          "Yohann",
};

static const char *const surnames[] = {
    "Dupont",     "Martin",   "Bernard",  "Dubois",     "Thomas",    "Robert",   "Richard",
    "Petit",      "Durand",   "Leroy",    "Moreau",     "Simon",     "Laurent",  "Lefèvre",
    "Michel",     "Garcia",   "David",    "Bertrand",   "Roux",      "Vincent",  "Fournier",
    "Morel",      "Girard",   "André",    "Lefebvre",   "Mercier",   "Dupuis",   "Lambert",
    "Bonnet",     "François", "Martinez", "Legrand",    "Garnier",   "Faure",    "Rousseau",
    "Blanc",      "Guérin",   "Muller",   "Henry",      "Roussel",   "Perrin",   "Morin",
    "Mathieu",    "Clément",  "Gauthier", "Dumont",     "Lopez",     "Fontaine", "Chevalier",
    "Robin",      "Masson",   "Gérard",   "Boyer",      "Lemaire",   "Duval",    "Noël",
    "Meyer",      "Pérez",    "Marchand", "Dufour",     "Blanchard", "Brunet",   "Schmitt",
    "Leclerc",    "Vidal",    "Renaud",   "Picard",     "Lacroix",   "Fabre",    "Da Silva",
    "Rivière",    "Le Gall",  "Le Goff",  "Ménard",     "Prévost",   "Lebœuf",   "Bréchet",
    "N'Diaye",    "Nguyen",   "Haddad",   "Benali",     "Santoni",   "Casanova", "Paoli",
    "Etcheverry", "Kervella", "Dupré",    "Desjardins", "Bézier",    "Lévêque",
};

static const char *const streets[] = {
    "rue de la République",
    "avenue Jean-Jaurès",
    "rue Victor-Hugo",
    "boulevard Gambetta",
    "place de l’Église",
    "rue Émile-Zola",
    "allée des Châtaigniers",
    "impasse des Mésanges",
    "chemin du Moulin",
    "rue Pasteur",
    "avenue du Général-Leclerc",
    "rue des Écoles",
    "cours de la Libération",
    "rue Jules-Ferry",
    "rue de la Gare",
    "rue du Château",
    "avenue Foch",
    "rue des Lilas",
    "rue Anatole-France",
    "rue Aristide-Briand",
    "rue du 8-Mai-1945",
    "rue Sainte-Catherine",
    "rue des Tilleuls",
    "rue de l’Hôtel-de-Ville",
};

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* PCG-style 64-bit LCG (Knuth's MMIX constants); the high bits are the
 * well-mixed ones. */
typedef struct rng {
    uint64_t s;
} rng_t;

static unsigned pick(rng_t *r, size_t n)
{
    r->s = r->s * 6364136223846793005u + 1442695040888963407u;
    return (unsigned)((r->s >> 33) % n);
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* Lowercase ASCII for an e-mail local part: accents dropped, spaces and
 * apostrophes removed, hyphens kept. Only the letters of the lists above
 * need mapping. */
static void slug(const char *in, char *out, size_t cap)
{
    static const struct {
        const char *utf8, *ascii;
    } map[] = {
        {"à", "a"}, {"â", "a"}, {"ä", "a"},  {"ç", "c"},  {"é", "e"}, {"è", "e"},  {"ê", "e"},
        {"ë", "e"}, {"î", "i"}, {"ï", "i"},  {"ô", "o"},  {"ö", "o"}, {"ù", "u"},  {"û", "u"},
        {"ü", "u"}, {"ÿ", "y"}, {"œ", "oe"}, {"æ", "ae"}, {"É", "e"}, {"È", "e"},  {"Ê", "e"},
        {"À", "a"}, {"Â", "a"}, {"Î", "i"},  {"Ô", "o"},  {"Ç", "c"}, {"Œ", "oe"},
    };
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 3 < cap;) {
        if (*p < 0x80) {
            unsigned char c = *p++;
            if (c >= 'A' && c <= 'Z')
                out[o++] = (char)(c - 'A' + 'a');
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
                out[o++] = (char)c;
            continue;
        }
        size_t i;
        for (i = 0; i < N(map); i++) {
            size_t l = strlen(map[i].utf8);
            if (strncmp((const char *)p, map[i].utf8, l) == 0) {
                for (const char *s = map[i].ascii; *s; s++)
                    out[o++] = *s;
                p += l;
                break;
            }
        }
        if (i == N(map)) { /* unmapped: skip the whole sequence */
            p++;
            while ((*p & 0xC0) == 0x80)
                p++;
        }
    }
    out[o] = '\0';
}

typedef struct person {
    unsigned sex;
    const char *first, *last;
    unsigned year, month, day;
    const commune_t *home, *born;
    unsigned order;
    const char *address;
    const char *email; /* NULL: none on file */
    const char *iban;  /* NULL: none on file (registers with a code by post) */
} person_t;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The NIR of p: sex, year, month, department and commune of birth, order
 * number, key. Corsica was one department (20) until 1976: people born
 * there earlier keep 20 in their NIR. */
static void make_nir(const person_t *p, char nir[16])
{
    char dept[3] = {p->born->insee[0], p->born->insee[1], '\0'};
    if (dept[0] == '2' && (dept[1] == 'A' || dept[1] == 'B') && p->year < 1976)
        dept[1] = '0';
    snprintf(nir, 14, "%u%02u%02u%s%s%03u", p->sex, p->year % 100, p->month, dept,
             p->born->insee + 2, p->order);
    portail_nir_key(nir, nir + 13);
}

/* n mod 97 of a string of digits and letters (A = 10 ... Z = 35). */
static unsigned mod97(const char *s)
{
    unsigned m = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            m = (m * 10 + (unsigned)(*s - '0')) % 97;
        else
            m = (m * 100 + (unsigned)(*s - 'A' + 10)) % 97;
    }
    return m;
}

/* A French IBAN of a real bank's code with a made-up branch and account:
 * RIB key then IBAN check digits computed, so that portail_valid_iban
 * accepts it as a member would type it from a RIB. */
static const char *make_iban(rng_t *r, portail_arena_t *a)
{
    static const char *const banks[] = {"30004", "30002", "20041", "10278",
                                        "30003", "11315", "18206", "30066"};
    char bban[24], check[32];
    unsigned branch = pick(r, 100000);
    unsigned long long account =
        ((unsigned long long)pick(r, 1000000) * 100000ULL) + pick(r, 100000);
    snprintf(bban, sizeof bban, "%s%05u%011llu00", banks[pick(r, N(banks))], branch, account);
    unsigned key = 97 - mod97(bban); /* RIB key: bank, branch, account and 00 */
    snprintf(bban + 21, sizeof bban - 21, "%02u", key);
    snprintf(check, sizeof check, "%sFR00", bban);
    return portail_sprintf(a, "FR%02u%s", 98 - mod97(check), bban);
}

static void generate(rng_t *r, portail_arena_t *a, unsigned i, person_t *p)
{
    p->sex = 1 + pick(r, 2);
    p->first = p->sex == 1 ? men[pick(r, N(men))] : women[pick(r, N(women))];
    p->last = surnames[pick(r, N(surnames))];
    p->year = 1940 + pick(r, 67);
    p->month = 1 + pick(r, 12);
    p->day = 1 + pick(r, days_in_month(p->year, p->month));
    p->home = &communes[pick(r, N(communes))];
    /* Most people live in another commune than the one they were born in. */
    p->born = pick(r, 3) == 0 ? p->home : &communes[pick(r, N(communes))];
    /* Order numbers follow the index so that NIRs cannot collide within the
     * first 999 people; past that a collision is all but impossible, and
     * the upsert would skip it. */
    p->order = 1 + i % 999;
    unsigned num = 1 + pick(r, 150);
    const char *bis = pick(r, 12) == 0 ? " bis" : "";
    p->address = portail_sprintf(a, "%u%s %s", num, bis, streets[pick(r, N(streets))]);
    if (pick(r, 8) == 0) {
        p->email = NULL;
    } else {
        char f[64], l[64];
        slug(p->first, f, sizeof(f));
        slug(p->last, l, sizeof(l));
        p->email = portail_sprintf(a, "%s.%s.%u@example.fr", f, l, i);
    }
    /* A few have no bank account on file (paid by other means, or not
     * yet known): they register with a provisional code sent by post. */
    rng_t own = {0x4942414eu + 2654435761u * (uint64_t)i}; /* keeps r's sequence as it was */
    p->iban = pick(&own, 10) == 0 ? NULL : make_iban(&own, a);
}

static const char *const specialties[] = {
    "Médecine générale", "Médecine générale", "Médecine générale", "Médecine générale",
    "Médecine générale", "Pédiatrie",         "Cardiologie",       "Dermatologie",
    "Ophtalmologie",     "Gynécologie",       "Psychiatrie",       "Masso-kinésithérapie",
};

/* The directory of practitioners: always the same PORTAIL_SEED_PRACTITIONERS
 * people over the communes above, RPPS numbers "10" + 8 digits + the Luhn
 * check digit (verified before insertion, as any RPPS must be). */
static int seed_practitioners(portail_db_t *db, portail_arena_t *a, char *err, size_t errlen)
{
    rng_t r = {0x5250505300u}; /* "RPPS" */
    for (unsigned i = 0; i < PORTAIL_SEED_PRACTITIONERS; i++) {
        char rpps[12];
        snprintf(rpps, sizeof(rpps), "10%08u0", 10000000u + i * 37u);
        for (int d = 0; d <= 9; d++) {
            rpps[10] = (char)('0' + d);
            if (portail_rpps_valid(rpps))
                break;
        }
        if (!portail_rpps_valid(rpps)) {
            set_err(err, errlen, "Praticien n°%u : RPPS %s généré invalide.", i, rpps);
            return -1;
        }
        unsigned sex = 1 + pick(&r, 2);
        const char *first = sex == 1 ? men[pick(&r, N(men))] : women[pick(&r, N(women))];
        const char *last = surnames[pick(&r, N(surnames))];
        const commune_t *c = &communes[i % N(communes)];
        const char *spec = specialties[pick(&r, N(specialties))];
        const char *addr =
            portail_sprintf(a, "%u %s", 1 + pick(&r, 120), streets[pick(&r, N(streets))]);
        int accepts = pick(&r, 3) != 0;
        if (portail_db_exec(db,
                            "INSERT INTO practitioners (rpps, last_name, first_name, specialty, "
                            "address_line, postal_code, city, accepts_new_patients) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id",
                            "sssssssi", rpps, last, first, spec, addr, c->postal, c->city,
                            accepts) < 0) {
            set_err(err, errlen, "Insertion du praticien n°%u impossible (erreur MariaDB %u).", i,
                    portail_db_errno(db));
            return -1;
        }
    }
    return 0;
}

static const char INSERT_SQL[] =
    "INSERT INTO insured (nir, sex, last_name, first_name, birth_date, birth_place, "
    "address_line, postal_code, city, fund, email, iban) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON DUPLICATE KEY UPDATE id = id";

int portail_seed(portail_db_t *db, portail_arena_t *a, unsigned count, char *err, size_t errlen)
{
    if (count > PORTAIL_SEED_MAX) {
        set_err(err, errlen, "Nombre d’assurés trop grand (%u au plus).", PORTAIL_SEED_MAX);
        return -1;
    }
    if (portail_db_begin(db) != 0) {
        set_err(err, errlen, "Début de transaction impossible (erreur MariaDB %u).",
                portail_db_errno(db));
        return -1;
    }

    rng_t r = {0x506f727461696cu}; /* "Portail" */
    long long inserted = 0;
    for (unsigned i = 0; i < count; i++) {
        person_t p;
        if (i == 0) {
            /* The demo member that documentation and tests sign in as. */
            p = (person_t){2,
                           "Marie",
                           "Dupont",
                           1985,
                           3,
                           14,
                           &communes[0],
                           &communes[0],
                           1,
                           "12 rue Sainte-Catherine",
                           "marie.dupont@example.fr",
                           PORTAIL_SEED_DEMO_IBAN};
        } else {
            generate(&r, a, i, &p);
        }
        char nir[16], date[40];
        make_nir(&p, nir);
        snprintf(date, sizeof(date), "%04u-%02u-%02u", p.year, p.month, p.day);
        const char *why = NULL;
        if (portail_nir_check(nir, date, &why) != 0) {
            /* Only a bug in the tables above gets here. */
            portail_db_rollback(db);
            set_err(err, errlen, "Assuré n°%u : NIR %s généré invalide : %s", i, nir, why);
            return -1;
        }
        const char *msg = NULL;
        if (p.iban && !portail_valid_iban(a, p.iban, &msg)) {
            portail_db_rollback(db);
            set_err(err, errlen, "Assuré n°%u : IBAN %s généré invalide : %s", i, p.iban, msg);
            return -1;
        }
        long long n = portail_db_exec(db, INSERT_SQL, "sissssssssss", nir, (int)p.sex, p.last,
                                      p.first, date, p.born->birth, p.address, p.home->postal,
                                      p.home->city, p.home->fund, p.email, p.iban);
        if (n < 0) {
            unsigned e = portail_db_errno(db);
            portail_db_rollback(db);
            set_err(err, errlen, "Insertion de l’assuré n°%u impossible (erreur MariaDB %u).", i,
                    e);
            return -1;
        }
        inserted += n;
    }
    if (seed_practitioners(db, a, err, errlen) != 0) {
        portail_db_rollback(db);
        return -1;
    }
    /* Invented persons make it a demo database: portailctl demo needs
     * this mark before it makes accounts. */
    if (portail_db_exec(db,
                        "INSERT INTO core_settings (name, value) VALUES ('demo_database', "
                        "'portailctl seed') ON DUPLICATE KEY UPDATE updated_at = UTC_TIMESTAMP()",
                        "") < 0) {
        unsigned e = portail_db_errno(db);
        portail_db_rollback(db);
        set_err(err, errlen, "Marque de base de démonstration impossible (erreur MariaDB %u).", e);
        return -1;
    }
    if (portail_db_commit(db) != 0) {
        unsigned e = portail_db_errno(db);
        portail_db_rollback(db);
        set_err(err, errlen, "Validation de la transaction impossible (erreur MariaDB %u).", e);
        return -1;
    }
    return (int)inserted;
}
