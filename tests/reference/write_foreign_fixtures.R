# The example cohort as SPSS, Stata and REDCap write it: fixtures for the
# readers of analysis/foreign.py and analysis/redcap.py, written by an
# independent writer (haven, built on the same ReadStat as pyreadstat, but not
# by the code under test).
#
# Run from the repository root:  Rscript tests/reference/write_foreign_fixtures.R
# (`make reference` runs it). Needs R with haven (Debian/Ubuntu:
# apt-get install -y --no-install-recommends r-cran-haven; written with
# haven 2.5.1). Reads data/example_cohort.csv and writes into
# tests/fixtures/foreign/:
#
#   ino_cohort.sav, .zsav, .dta   the example cohort, every category and yes/no
#                                 a labelled number (the labels are the data
#                                 dictionary's), vital status a labelled string
#                                 in SPSS, dates as dates, variable labels; the
#                                 empty cells of the optional columns a
#                                 missing-value code: 9 "Not applicable"
#                                 declared user-missing in SPSS, .a in Stata
#   (the next four: the first six patients)
#   age_unknown_missing.sav       patient SYN-005's age 99 "Unknown", declared
#                                 user-missing: must read as missing
#   age_unknown_undeclared.dta    the same 99 "Unknown" as a plain labelled
#                                 number (Stata cannot declare 99 missing):
#                                 must be refused, never read as 99 years
#   sex_other.dta                 patient SYN-004's sex 3 "Other", a code the
#                                 dictionary does not allow: must be refused
#   vital_status_relabelled.sav   "dead" labelled "Deceased" where the
#                                 dictionary says "Dead": must be refused
#
# and tests/fixtures/redcap/ino_export.csv: the example cohort as REDCap's
# "CSV / Microsoft Excel (raw data)" export of the project whose data
# dictionary is tests/fixtures/redcap/ino_dictionary.csv (written by hand):
# choices as their raw codes, yes/no and true/false as 1/0, the last contact
# a date-time, a `<form>_complete` column after each form.
#
# Rerunning it gives the same data; the .sav and .dta files differ only in the
# creation time their formats stamp in the header.

suppressPackageStartupMessages(library(haven))

csv_path <- file.path("data", "example_cohort.csv")
if (!file.exists(csv_path)) stop("run from the repository root; ", csv_path, " not found")
out_dir <- file.path("tests", "fixtures", "foreign")
redcap_dir <- file.path("tests", "fixtures", "redcap")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

all_patients <- read.csv(csv_path, stringsAsFactors = FALSE, na.strings = "", colClasses = "character")
stopifnot(nrow(all_patients) == 27)
d <- all_patients

# The data dictionary's codes and labels (data/dictionary.yml), in its order.
categories <- list(
  sex = c(female = "Female", male = "Male"),
  disease_status = c(
    first_remission = "First remission",
    primary_refractory = "Primary refractory (to achieve first remission)",
    first_relapse = "First relapse", second_relapse = "Second relapse", third_relapse = "Third relapse"
  ),
  ino_stop_reason = c(liver_toxicity = "Liver toxicity", infection = "Infection",
                      progression = "Disease progression", other_toxicity = "Other toxicity"),
  response = c(
    mrd_negative_remission = "MRD-negative (<0.01%) remission without extramedullary lesions",
    no_mrd_negative_remission = "No MRD-negative remission",
    not_evaluable = "Not evaluable (no detectable disease at InO)"
  ),
  further_therapy_type = c(blinatumomab = "Blinatumomab", chemotherapy = "Chemotherapy", car_t = "CAR T-cell therapy"),
  vital_status = c(alive = "Alive", dead = "Dead")
)
booleans <- c("extramedullary_disease", "prior_blinatumomab", "prior_car_t", "prior_allo_hsct",
              "further_therapy", "hsct_after_ino", "sos")
dates <- c("ino_start_date", "hsct_date", "sos_date", "relapse_date", "death_date", "last_contact_date")
labels <- c(
  patient_id = "Patient (pseudonymous study ID)", sex = "Sex", age_years = "Age at InO, years",
  disease_status = "Disease status at InO", bm_blasts_pct = "Bone-marrow blasts at InO, %",
  flow_mrd_pct = "Leukemic cells by flow cytometry at InO, %", extramedullary_disease = "Extramedullary disease at InO",
  prior_blinatumomab = "Prior blinatumomab", prior_car_t = "Prior CAR T-cell therapy",
  prior_allo_hsct = "Prior allogeneic HSCT", ino_start_date = "Date of first InO dose", ino_cycles = "InO cycles",
  ino_doses = "InO doses in the first cycle", ino_stop_reason = "Reason the first cycle stopped early",
  response = "Response after InO", further_therapy = "Further therapy after InO",
  further_therapy_type = "Type of further therapy", hsct_after_ino = "Allogeneic HSCT after InO",
  hsct_date = "Date of allogeneic HSCT after InO", sos = "Sinusoidal obstruction syndrome after HSCT",
  sos_date = "Date of SOS diagnosis", relapse_date = "Date of relapse or progression after InO",
  vital_status = "Vital status at last contact", death_date = "Date of death",
  last_contact_date = "Date of last contact (date of death if dead)"
)
# Optional columns whose empty cells are written as a missing-value code.
coded_missing <- c("ino_stop_reason", "further_therapy_type", "sos")
not_applicable <- 9

# A labelled number per category (1, 2, ... in the dictionary's order) or yes/no (0 no, 1 yes);
# `stata`: the missing code as Stata's extended missing .a, else SPSS's user-missing 9.
labelled_column <- function(name, text, stata) {
  codes <- if (name %in% booleans) c(no = 0, yes = 1) else setNames(seq_along(categories[[name]]), names(categories[[name]]))
  value_labels <- if (name %in% booleans) c(No = 0, Yes = 1) else setNames(as.numeric(codes), categories[[name]])
  x <- unname(as.numeric(codes[text]))
  if (!(name %in% coded_missing)) return(labelled(x, value_labels, label = labels[[name]]))
  if (stata) {
    x[is.na(x)] <- tagged_na("a")
    return(labelled(x, c(value_labels, "Not applicable" = tagged_na("a")), label = labels[[name]]))
  }
  x[is.na(x)] <- not_applicable
  labelled_spss(x, c(value_labels, "Not applicable" = not_applicable), na_values = not_applicable, label = labels[[name]])
}

cohort <- function(stata) {
  out <- data.frame(patient_id = d$patient_id, stringsAsFactors = FALSE)
  for (name in names(d)[-1]) {
    text <- d[[name]]
    out[[name]] <- if (name %in% c(names(categories), booleans)) {
      if (name == "vital_status" && !stata) {
        # SPSS labels strings too: the codes are the dictionary's, the labels its labels.
        labelled(text, setNames(names(categories$vital_status), categories$vital_status), label = labels[[name]])
      } else {
        labelled_column(name, text, stata)
      }
    } else if (name %in% dates) {
      as.Date(text)
    } else if (name %in% c("ino_cycles", "ino_doses")) {
      as.integer(text)
    } else {
      as.numeric(text)
    }
  }
  # The variable labels (haven's labelled() would turn a Date into a plain number).
  for (name in names(out)) attr(out[[name]], "label") <- labels[[name]]
  out
}

sav <- cohort(stata = FALSE)
dta <- cohort(stata = TRUE)
write_sav(sav, file.path(out_dir, "ino_cohort.sav"))
write_sav(sav, file.path(out_dir, "ino_cohort.zsav"), compress = "zsav")
# Stata 13's format (dta 117): Stata 14's (118) pads every variable's name and label to four times the bytes.
write_dta(dta, file.path(out_dir, "ino_cohort.dta"), version = 13)

# The files that must be refused hold the first six patients (every column; a few KB each).
few <- seq_len(6)
sav <- sav[few, ]
dta <- dta[few, ]
d <- d[few, ]

row <- which(d$patient_id == "SYN-005")
unknown_age <- sav
unknown_age$age_years <- labelled_spss(replace(as.numeric(d$age_years), row, 99), c(Unknown = 99), na_values = 99,
                                       label = labels[["age_years"]])
write_sav(unknown_age, file.path(out_dir, "age_unknown_missing.sav"))

undeclared <- dta
undeclared$age_years <- labelled(replace(as.numeric(d$age_years), row, 99), c(Unknown = 99), label = labels[["age_years"]])
write_dta(undeclared, file.path(out_dir, "age_unknown_undeclared.dta"), version = 13)

other_sex <- dta
other_sex$sex <- labelled(replace(as.numeric(dta$sex), which(d$patient_id == "SYN-004"), 3),
                          c(Female = 1, Male = 2, Other = 3), label = labels[["sex"]])
write_dta(other_sex, file.path(out_dir, "sex_other.dta"), version = 13)

relabelled <- sav
relabelled$vital_status <- labelled(d$vital_status, c(Alive = "alive", Deceased = "dead"), label = labels[["vital_status"]])
write_sav(relabelled, file.path(out_dir, "vital_status_relabelled.sav"))

# REDCap's raw export of every patient: the choice codes of tests/fixtures/redcap/ino_dictionary.csv.
d <- all_patients
raw_codes <- list(
  sex = c(female = "1", male = "2"),
  disease_status = c(first_remission = "1", primary_refractory = "2", first_relapse = "3", second_relapse = "4",
                     third_relapse = "5"),
  ino_stop_reason = c(liver_toxicity = "1", infection = "2", progression = "3", other_toxicity = "4"),
  # The project codes the response with words; REDCap allows such raw codes.
  response = c(mrd_negative_remission = "mrd_negative_remission", no_mrd_negative_remission = "no_mrd_negative_remission",
               not_evaluable = "not_evaluable"),
  further_therapy_type = c(blinatumomab = "1", chemotherapy = "2", car_t = "3"),
  vital_status = c(alive = "0", dead = "1")
)
export <- d
for (name in names(raw_codes)) export[[name]] <- unname(raw_codes[[name]][d[[name]]])
for (name in booleans) export[[name]] <- unname(c(no = "0", yes = "1")[d[[name]]])
# A datetime_ymd field: REDCap exports "YYYY-MM-DD HH:MM".
export$last_contact_date <- paste(d$last_contact_date, "14:30")
first_follow_up <- which(names(export) == "further_therapy")
export <- cbind(export[seq_len(first_follow_up - 1)], baseline_complete = "2",
                export[first_follow_up:ncol(export)], follow_up_complete = "2")
export[is.na(export)] <- ""
write.csv(export, file.path(redcap_dir, "ino_export.csv"), row.names = FALSE, na = "", quote = FALSE)
