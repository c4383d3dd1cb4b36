# Writes examples/colon/data/colon.csv from R's survival::colon.
#
# Run from the repository root:  Rscript examples/colon/data/make_colon_csv.R
# Needs R with the survival package only. Deterministic: no random numbers, no
# clock, fixed formatting and "\n" line ends, so a re-run rewrites the file
# byte for byte (from the same survival::colon; checked with survival 3.5-3).
#
# survival::colon has two rows per patient (etype 1 = recurrence, 2 = death),
# with identical covariates on both. The CSV has one row per patient: the
# covariates, and each event's time and status exactly as survival::colon gives
# them. Nothing is derived or corrected; see examples/colon/README.md for what
# the data hold (including their known inconsistencies).
#
# Before writing, the script stops if any assumption the one-row-per-patient
# layout relies on does not hold; after writing, it reads the file back and
# checks that it reproduces survival::colon's event rows exactly.

suppressPackageStartupMessages(library(survival))

out_path <- file.path("examples", "colon", "data", "colon.csv")
if (!dir.exists(dirname(out_path))) {
  stop("run from the repository root: Rscript examples/colon/data/make_colon_csv.R")
}

colon_long <- survival::colon
covariates <- c("study", "rx", "sex", "age", "obstruct", "perfor", "adhere",
                "nodes", "differ", "extent", "surg", "node4")

# ---------------------------------------------------------------- checks ---
stopifnot(
  nrow(colon_long) == 1858,
  !anyDuplicated(colon_long),                                   # no identical rows
  all(table(colon_long$id) == 2),                               # two rows per patient
  all(table(colon_long$id, colon_long$etype) == 1),             # one of each etype
  all(colon_long$study == 1),
  all(colon_long$status %in% c(0, 1)),
  all(colon_long$time > 0), all(colon_long$time == round(colon_long$time)),
  all(colon_long$age == round(colon_long$age))
)
rec <- colon_long[colon_long$etype == 1, ]
dth <- colon_long[colon_long$etype == 2, ]
rec <- rec[order(rec$id), ]
dth <- dth[order(dth$id), ]
stopifnot(identical(rec$id, dth$id), identical(rec$id, as.numeric(seq_len(929))))
for (v in covariates) {
  if (!identical(rec[[v]], dth[[v]])) stop("covariate ", v, " differs between a patient's two rows")
}
# Recurrence is never recorded after death, and a patient without recurrence
# is censored for recurrence at the death/follow-up time.
stopifnot(all(rec$time <= dth$time), all(rec$time[rec$status == 0] == dth$time[rec$status == 0]))

# ------------------------------------------------------------- the table ---
yes_no <- function(x) ifelse(is.na(x), NA, ifelse(x == 1, "yes", "no"))
code <- function(x, codes) {
  # x holds 1-based codes (or NA); codes their names in order.
  stopifnot(all(is.na(x) | x %in% seq_along(codes)))
  ifelse(is.na(x), NA, codes[x])
}

colon_wide <- data.frame(
  patient_id = sprintf("COL-%04d", as.integer(rec$id)),
  arm = code(as.integer(rec$rx), c("obs", "lev", "lev_5fu")),   # factor levels Obs, Lev, Lev+5FU
  sex = ifelse(rec$sex == 1, "male", "female"),                 # help page: 1 = male
  age = as.integer(rec$age),
  obstruct = yes_no(rec$obstruct),
  perfor = yes_no(rec$perfor),
  adhere = yes_no(rec$adhere),
  nodes = as.integer(rec$nodes),
  differ = code(rec$differ, c("well", "moderate", "poor")),
  extent = code(rec$extent, c("submucosa", "muscle", "serosa", "contiguous")),
  surg = code(rec$surg + 1, c("short", "long")),                # 0 = short, 1 = long
  node4 = yes_no(rec$node4),
  recurrence_time_days = as.integer(rec$time),
  recurrence = yes_no(rec$status),
  death_time_days = as.integer(dth$time),
  death = yes_no(dth$status),
  stringsAsFactors = FALSE
)
stopifnot(identical(levels(rec$rx), c("Obs", "Lev", "Lev+5FU")))

# No cell needs quoting: no commas, quotes or line breaks anywhere.
stopifnot(!any(vapply(colon_wide, function(x) any(grepl("[,\"\n\r]", x)), logical(1))))
con <- file(out_path, open = "wb")   # binary: "\n" line ends on every platform
write.table(colon_wide, con, sep = ",", quote = FALSE, row.names = FALSE, na = "",
            fileEncoding = "UTF-8", eol = "\n")
close(con)

# ---------------------------------------------------------- read it back ---
back <- read.csv(out_path, stringsAsFactors = FALSE, na.strings = "",
                 colClasses = "character")
stopifnot(nrow(back) == 929, identical(names(back), names(colon_wide)))
num <- function(x) as.numeric(x)
flag <- function(x) ifelse(is.na(x), NA, as.numeric(x == "yes"))
stopifnot(
  identical(as.integer(sub("^COL-", "", back$patient_id)), as.integer(rec$id)),
  identical(match(back$arm, c("obs", "lev", "lev_5fu")), as.integer(rec$rx)),
  identical(as.numeric(back$sex == "male"), rec$sex),
  identical(num(back$age), rec$age),
  identical(flag(back$obstruct), rec$obstruct),
  identical(flag(back$perfor), rec$perfor),
  identical(flag(back$adhere), rec$adhere),
  identical(num(back$nodes), rec$nodes),
  identical(as.numeric(match(back$differ, c("well", "moderate", "poor"))), rec$differ),
  identical(as.numeric(match(back$extent, c("submucosa", "muscle", "serosa", "contiguous"))), rec$extent),
  identical(as.numeric(match(back$surg, c("short", "long")) - 1), rec$surg),
  identical(flag(back$node4), rec$node4),
  identical(num(back$recurrence_time_days), rec$time),
  identical(flag(back$recurrence), rec$status),
  identical(num(back$death_time_days), dth$time),
  identical(flag(back$death), dth$status)
)
cat("wrote", out_path, "(", nrow(back), "patients ) md5", unname(tools::md5sum(out_path)), "\n")
