/* The one header a module includes. */
#ifndef PORTAIL_PORTAIL_H
#define PORTAIL_PORTAIL_H

#include "portail/arena.h"
#include "portail/db.h"
#include "portail/http.h"
#include "portail/module.h"
#include "portail/services.h"
#include "portail/jobs.h"
#include "portail/notify.h"
#include "portail/pdf.h"
#include "portail/validate.h"
#include "portail/documents.h"

#endif
