# Reference values for the colon example study (examples/colon), computed with R.
#
# Run from the repository root:  Rscript tests/reference/colon_reference.R
# Reads examples/colon/data/colon.csv (written by examples/colon/data/make_colon_csv.R
# from survival::colon) and writes tests/reference/colon_reference.json.
# Needs R >= 4.2 with survival, cmprsk and jsonlite. Deterministic: rerunning
# it gives the same file.
#
# Everything is computed FROM THE CSV, read back here, so the values check the
# file the report reads; the only use of survival::colon is a consistency check
# of the competing-risks coding (section "recurrence").
#
# Times are in days; a year is 365.25 days, so the landmarks 1, 3 and 5 years
# are 365.25, 1095.75 and 1826.25 days (no observed time falls on them: all
# times are whole days). Groups are the arms in the dictionary's order: obs
# (observation, the reference), lev (levamisole), lev_5fu (levamisole + 5-FU).
# Every block of the JSON is described in its "definitions" entry below.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

out_dir <- file.path("tests", "reference")
csv_path <- file.path("examples", "colon", "data", "colon.csv")
if (!file.exists(csv_path)) stop("run from the repository root; ", csv_path, " not found")

d <- read.csv(csv_path, stringsAsFactors = FALSE, na.strings = "", colClasses = "character")
stopifnot(nrow(d) == 929, !anyDuplicated(d$patient_id))
for (v in c("age", "nodes", "recurrence_time_days", "death_time_days")) d[[v]] <- as.numeric(d[[v]])
yes <- function(x) { stopifnot(all(x %in% c("yes", "no"))); x == "yes" }

arms <- c("obs", "lev", "lev_5fu")
stopifnot(all(d$arm %in% arms))
d$arm <- factor(d$arm, levels = arms)          # obs first: the reference level
groups <- c("all", arms)
subset_of <- function(g) if (g == "all") d else d[d$arm == g, ]

year_days <- 365.25
landmark_years <- c(1, 3, 5)
landmarks <- landmark_years * year_days
conf_level <- 0.95
conf_types <- c("log", "log-log", "plain")

# NA -> JSON null, everything else a plain number (vectors stay arrays).
num <- function(x) lapply(as.numeric(x), function(v) if (is.na(v)) NULL else v)
scalar <- function(x) if (length(x) == 0 || is.na(x)) NULL else unname(x)
named <- function(keys, f) setNames(lapply(keys, f), keys)

# ------------------------------------------------------ overall survival ---
# Event: death (death == yes) at death_time_days; censored otherwise.
d$os_time <- d$death_time_days
d$os_status <- as.integer(yes(d$death))

km_block <- function(g) {
  s <- subset_of(g)
  by_ct <- named(conf_types, function(ct) {
    fit <- survfit(Surv(os_time, os_status) ~ 1, data = s, conf.type = ct, conf.int = conf_level)
    sm <- summary(fit, times = landmarks)
    q <- quantile(fit, probs = 0.5)
    list(
      at = lapply(seq_along(landmarks), function(i) list(
        years = landmark_years[i], time_days = landmarks[i],
        surv = sm$surv[i], se = scalar(sm$std.err[i]),
        lower = scalar(sm$lower[i]), upper = scalar(sm$upper[i]),
        n_risk = sm$n.risk[i], events_by_then = sum(s$os_status[s$os_time <= landmarks[i]]))),
      median = list(estimate = scalar(q$quantile), lower = scalar(q$lower), upper = scalar(q$upper)))
  })
  list(n = nrow(s), events = sum(s$os_status), by_conf_type = by_ct)
}

follow_up_block <- function(g) {
  s <- subset_of(g)
  alive <- s$os_time[s$os_status == 0]
  list(
    n = nrow(s), n_censored = length(alive),
    censored_min_days = if (length(alive)) min(alive) else NULL,
    censored_max_days = if (length(alive)) max(alive) else NULL,
    by_conf_type = named(conf_types, function(ct) {
      fit <- survfit(Surv(os_time, 1 - os_status) ~ 1, data = s, conf.type = ct, conf.int = conf_level)
      q <- quantile(fit, probs = 0.5)
      list(median = scalar(q$quantile), lower = scalar(q$lower), upper = scalar(q$upper))
    }))
}

logrank_block <- function(strata = NULL) {
  fit <- if (is.null(strata)) {
    survdiff(Surv(os_time, os_status) ~ arm, data = d)
  } else {
    d$stratum <- d[[strata]]
    survdiff(Surv(os_time, os_status) ~ arm + strata(stratum), data = d)
  }
  observed <- rowSums(as.matrix(fit$obs))
  expected <- rowSums(as.matrix(fit$exp))
  list(groups = sub("^arm=", "", names(fit$n)), strata_column = strata,
       n = as.integer(fit$n), observed = unname(observed), expected = unname(expected),
       chisq = fit$chisq, df = length(fit$n) - 1L, p = fit$pvalue)
}

cox_fit <- coxph(Surv(os_time, os_status) ~ arm, data = d, ties = "efron")
cox_sum <- summary(cox_fit, conf.int = conf_level)
cox_term <- function(level) {
  row <- paste0("arm", level)
  list(coef = cox_sum$coefficients[row, "coef"], se = cox_sum$coefficients[row, "se(coef)"],
       hazard_ratio = cox_sum$conf.int[row, "exp(coef)"],
       lower = cox_sum$conf.int[row, "lower .95"], upper = cox_sum$conf.int[row, "upper .95"],
       z = cox_sum$coefficients[row, "z"], p = cox_sum$coefficients[row, "Pr(>|z|)"])
}
cox_test <- function(t) list(statistic = unname(t["test"]), df = unname(t["df"]), p = unname(t["pvalue"]))

os <- list(
  km = named(groups, km_block),
  follow_up = named(groups, follow_up_block),
  logrank = list(by_arm = logrank_block(), by_arm_stratified_by_sex = logrank_block("sex")),
  cox = list(
    ties = "efron", reference = "obs", n = cox_fit$n, events = cox_fit$nevent,
    terms = named(c("lev", "lev_5fu"), cox_term),
    tests = list(likelihood_ratio = cox_test(cox_sum$logtest), wald = cox_test(cox_sum$waldtest),
                 score = cox_test(cox_sum$sctest))))

# ------------------------------------------------------------ recurrence ---
# Recurrence with death without recurrence as the competing event, derived from
# the as-given columns by taking each patient's earliest event:
#   recurrence first  = recurrence == yes and (death == no or
#                       recurrence_time_days <= death_time_days)
#                       (a recurrence and a death on the same day count as recurrence)
#   status = 1 if recurrence first;
#            2 if not, and death == yes (death without an earlier recurrence);
#            0 otherwise (censored for both)
#   time   = recurrence_time_days if status 1, death_time_days if status 2,
#            min(recurrence_time_days, death_time_days) if status 0.
# In these data recurrence_time_days <= death_time_days always and the two are
# equal when recurrence == no, so time is recurrence_time_days for everyone;
# the stopifnot() below checks that, and that the coding equals survival::colon's
# etype-1 rows: status 1 exactly where etype 1 has status 1 (same time), and
# status 2 exactly where etype 1 is censored and etype 2 is a death at that time.
rec_yes <- yes(d$recurrence)
death_yes <- yes(d$death)
rec_first <- rec_yes & (!death_yes | d$recurrence_time_days <= d$death_time_days)
d$cr_status <- ifelse(rec_first, 1L, ifelse(death_yes, 2L, 0L))
d$cr_time <- ifelse(d$cr_status == 1, d$recurrence_time_days,
                    ifelse(d$cr_status == 2, d$death_time_days,
                           pmin(d$recurrence_time_days, d$death_time_days)))
colon_rec <- survival::colon[survival::colon$etype == 1, ]
colon_rec <- colon_rec[order(colon_rec$id), ]
colon_dth <- survival::colon[survival::colon$etype == 2, ]
colon_dth <- colon_dth[order(colon_dth$id), ]
stopifnot(
  identical(d$patient_id, sprintf("COL-%04d", as.integer(colon_rec$id))),
  all(d$cr_time == d$recurrence_time_days),
  all(d$cr_time == colon_rec$time),
  all((d$cr_status == 1) == (colon_rec$status == 1)),
  all((d$cr_status == 2) == (colon_rec$status == 0 & colon_dth$status == 1 & colon_dth$time == colon_rec$time))
)
cr_check <- list(
  recurrence_time_le_death_time_all = all(d$recurrence_time_days <= d$death_time_days),
  times_equal_when_no_recurrence = all(d$recurrence_time_days[!rec_yes] == d$death_time_days[!rec_yes]),
  time_equals_colon_etype1_time = TRUE,
  status1_equals_colon_etype1_status = TRUE,
  recurrence_and_death_same_day = sum(rec_yes & death_yes & d$recurrence_time_days == d$death_time_days))

# cmprsk::cuminc: Aalen-Johansen estimate, Aalen-type variance, Gray's test
# (rho = 0). cmprsk names curves "<group> <cause>" ("1 <cause>" without groups); here they are keyed
# by group and cause name. cmprsk gives no CI; the log(-log) interval from its
# estimate and variance (as in competing_risks_reference.R) is added.
causes <- c("1" = "recurrence", "2" = "death_without_recurrence")
loglog_ci <- function(est, var) {
  z <- qnorm(1 - (1 - conf_level) / 2)
  inside <- !is.na(est) & est > 0 & est < 1
  lower <- est; upper <- est
  lower[inside] <- est[inside]^exp(-z * sqrt(var[inside]) / (est[inside] * log(est[inside])))
  upper[inside] <- est[inside]^exp(z * sqrt(var[inside]) / (est[inside] * log(est[inside])))
  list(lower = lower, upper = upper)
}
cmprsk_curves <- function(fit, prefix) {
  tp <- timepoints(fit, landmarks)
  out <- named(names(causes), function(cause) {
    curve <- paste(prefix, cause)
    ci <- loglog_ci(tp$est[curve, ], tp$var[curve, ])
    list(at = lapply(seq_along(landmarks), function(i) list(
      years = landmark_years[i], time_days = landmarks[i],
      estimate = scalar(tp$est[curve, i]), variance = scalar(tp$var[curve, i]),
      loglog_lower = scalar(ci$lower[i]), loglog_upper = scalar(ci$upper[i]))))
  })
  names(out) <- causes[names(out)]
  out
}
cuminc_all <- cuminc(d$cr_time, d$cr_status)
cuminc_arm <- cuminc(d$cr_time, d$cr_status, d$arm)
gray <- cuminc_arm$Tests
cmprsk_block <- list(
  curves = c(list(all = cmprsk_curves(cuminc_all, "1")),   # ungrouped: cmprsk names the group "1"
             named(arms, function(a) cmprsk_curves(cuminc_arm, a))),
  gray_test = named(names(causes), function(cause) list(
    statistic = gray[cause, "stat"], df = as.integer(gray[cause, "df"]), p = gray[cause, "pv"])))
names(cmprsk_block$gray_test) <- causes

# survfit's Aalen-Johansen (multi-state) estimate: same estimate as cmprsk, a
# different (infinitesimal-jackknife) standard error, and CIs by conf.type.
d$cr_state <- factor(d$cr_status, levels = 0:2, labels = c("censor", "recurrence", "death_without_recurrence"))
aj_block <- function(g) {
  s <- subset_of(g)
  by_ct <- named(conf_types, function(ct) {
    fit <- survfit(Surv(cr_time, cr_state) ~ 1, data = s, conf.type = ct, conf.int = conf_level)
    sm <- summary(fit, times = landmarks)
    stopifnot(identical(sm$states, c("(s0)", "recurrence", "death_without_recurrence")))
    named(c("recurrence", "death_without_recurrence"), function(state) {
      j <- match(state, sm$states)
      list(at = lapply(seq_along(landmarks), function(i) list(
        years = landmark_years[i], time_days = landmarks[i],
        estimate = sm$pstate[i, j], se = sm$std.err[i, j],
        lower = sm$lower[i, j], upper = sm$upper[i, j], n_risk = sm$n.risk[i, 1])))
    })
  })
  list(n = nrow(s), recurrences = sum(s$cr_status == 1),
       deaths_without_recurrence = sum(s$cr_status == 2), by_conf_type = by_ct)
}

recurrence <- list(
  coding_check = cr_check,
  cmprsk = cmprsk_block,
  aalen_johansen = named(groups, aj_block))

# --------------------------------------------------------------- counts ---
counts <- named(groups, function(g) {
  s <- subset_of(g)
  r <- yes(s$recurrence); dd <- yes(s$death)
  list(n = nrow(s), deaths = sum(dd), recurrences = sum(r),
       recurrence_then_death = sum(r & dd), recurrence_alive = sum(r & !dd),
       death_without_recurrence = sum(!r & dd), neither = sum(!r & !dd),
       cr_status_1 = sum(s$cr_status == 1), cr_status_2 = sum(s$cr_status == 2),
       cr_status_0 = sum(s$cr_status == 0))
})

# -------------------------------------------------------------- Table 1 ---
# As gtsummary tbl_summary(by = arm) |> add_overall() |> add_p() with its
# defaults (gtsummary itself is not installed; its rules are reproduced):
# categorical and boolean columns: n per level, % of the patients with a known
# value in that column (missing values counted on their own, not in the
# denominator); age and nodes (numeric with >= 10 distinct values, so
# "continuous" to gtsummary): median, quartiles, min, max, missing.
# Tests, on the patients with a known value: categorical -> chisq.test(correct =
# FALSE) unless an expected count is < 5, then fisher.test; continuous ->
# kruskal.test. With three arms no table is 2 x 2, so Yates' continuity
# correction would not apply anyway.
categorical <- list(
  sex = c("female", "male"), obstruct = c("yes", "no"), perfor = c("yes", "no"),
  adhere = c("yes", "no"), differ = c("well", "moderate", "poor"),
  extent = c("submucosa", "muscle", "serosa", "contiguous"), surg = c("short", "long"),
  node4 = c("yes", "no"))
continuous <- c("age", "nodes")

categorical_block <- function(v) {
  lev <- categorical[[v]]
  stopifnot(all(is.na(d[[v]]) | d[[v]] %in% lev))
  by_group <- named(c(arms, "overall"), function(g) {
    x <- if (g == "overall") d[[v]] else d[[v]][d$arm == g]
    known <- sum(!is.na(x))
    list(n = length(x), missing = sum(is.na(x)), known = known,
         counts = named(lev, function(l) sum(x == l, na.rm = TRUE)),
         percent = named(lev, function(l) if (known) 100 * sum(x == l, na.rm = TRUE) / known else NULL))
  })
  k <- !is.na(d[[v]])
  tab <- table(factor(d[[v]][k], levels = lev), droplevels(d$arm[k]))
  expected <- suppressWarnings(chisq.test(tab, correct = FALSE))$expected
  test <- if (min(expected) >= 5) {
    t <- chisq.test(tab, correct = FALSE)
    list(method = "chisq.test(correct = FALSE)", statistic = unname(t$statistic),
         df = unname(t$parameter), p = t$p.value)
  } else {
    t <- fisher.test(tab)
    list(method = "fisher.test", statistic = NULL, df = NULL, p = t$p.value)
  }
  test$min_expected <- min(expected)
  list(levels = lev, by_group = by_group, test = test)
}

continuous_block <- function(v) {
  by_group <- named(c(arms, "overall"), function(g) {
    x <- if (g == "overall") d[[v]] else d[[v]][d$arm == g]
    y <- x[!is.na(x)]
    q7 <- quantile(y, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
    q2 <- quantile(y, c(0.25, 0.75), type = 2, names = FALSE)
    list(n = length(x), missing = sum(is.na(x)), known = length(y),
         median = q7[2], q1 = q7[1], q3 = q7[3], q1_type2 = q2[1], q3_type2 = q2[2],
         min = min(y), max = max(y), mean = mean(y), sd = sd(y))
  })
  t <- kruskal.test(d[[v]] ~ d$arm)
  list(by_group = by_group,
       test = list(method = "kruskal.test", statistic = unname(t$statistic),
                   df = unname(t$parameter), p = t$p.value))
}

table1 <- list(
  by = "arm", groups = arms, n = c(named(arms, function(a) sum(d$arm == a)), list(overall = nrow(d))),
  categorical = named(names(categorical), categorical_block),
  continuous = named(continuous, continuous_block))

# ---------------------------------------------------------- definitions ---
definitions <- list(
  meta = "Provenance: the script, the CSV it read (with its md5), R and package versions, the units and landmarks.",
  counts = paste(
    "Patients per group ('all' and each arm) counted from the CSV: deaths = death yes; recurrences = recurrence yes;",
    "recurrence_then_death, recurrence_alive, death_without_recurrence, neither = the four combinations of the two flags;",
    "cr_status_0/1/2 = patients per status of the competing-risks coding (see recurrence)."),
  os = paste(
    "Overall survival: time death_time_days, event death == yes, censored otherwise.",
    "km[group].by_conf_type[ct]: survfit(Surv(time, status) ~ 1, conf.type = ct, conf.int = 0.95) on that group;",
    "at = summary(fit, times) at 1, 3 and 5 years (365.25, 1095.75, 1826.25 days): surv, se (summary.survfit's",
    "std.err: the Greenwood SE of S(t) itself, not of log S), lower, upper, n_risk, and events_by_then = deaths at or",
    "before that time; median = quantile(fit, 0.5) with its CI (null = not reached / not estimable).",
    "follow_up[group]: reverse Kaplan-Meier, survfit(Surv(time, 1 - status)), median and CI per conf.type.",
    "logrank.by_arm: survdiff(Surv(time, status) ~ arm); by_arm_stratified_by_sex: survdiff(... ~ arm + strata(sex));",
    "observed and expected deaths per arm (summed over strata), chisq on df = arms - 1, p.",
    "cox: coxph(Surv(time, status) ~ arm, ties = 'efron') with obs as the reference level; per term coef (log HR),",
    "se, hazard_ratio, 95% Wald CI (lower, upper), z, p; tests = the model's likelihood-ratio, Wald and score",
    "(log-rank) tests, statistic on df = 2, p."),
  recurrence = paste(
    "Recurrence with death without recurrence as the competing event. Derivation from the CSV, taking each",
    "patient's earliest event: status 1 if recurrence == yes and (death == no or recurrence_time_days <=",
    "death_time_days), a recurrence and a death on the same day counting as recurrence; else 2 if death == yes;",
    "else 0 (censored). time = recurrence_time_days for status 1, death_time_days for status 2, and the smaller of",
    "the two for status 0; in these data that is recurrence_time_days for every patient. coding_check: the",
    "script stops unless time equals survival::colon's etype-1 time and status 1 equals its etype-1 status",
    "(status 2 = etype 1 censored with a death at that time in etype 2).",
    "cmprsk: cmprsk::cuminc(time, status[, arm]) and timepoints() at 1, 3, 5 years: estimate and variance",
    "(Aalen-type) per cause, keyed 'recurrence' (cause 1) and 'death_without_recurrence' (cause 2), for 'all'",
    "and each arm; loglog_lower/upper = est^exp(-/+ z sqrt(var) / (est log est)), computed here since cmprsk",
    "gives no CI; gray_test per cause: Gray's test across the arms (rho = 0), statistic, df, p.",
    "aalen_johansen[group].by_conf_type[ct]: survfit(Surv(time, factor(status)) ~ 1, conf.type = ct) multi-state",
    "fit, summary at the landmarks: estimate (pstate), se (infinitesimal jackknife; differs from cmprsk's",
    "variance), lower, upper, n_risk (at risk in the initial state). Same estimates as cmprsk."),
  table1 = paste(
    "Table 1 by arm with an overall column, as gtsummary tbl_summary(by = arm) |> add_overall() |> add_p()",
    "defaults (gtsummary not installed; rules reproduced). categorical[column].by_group[arm | overall]: n,",
    "missing, known (= n - missing), counts per level (levels in dictionary order), percent = 100 * count / known",
    "(missing not in the denominator). test: on patients with a known value, chisq.test(correct = FALSE) if every",
    "expected count >= 5, else fisher.test; min_expected reported. With three arms no table is 2 x 2, so no",
    "continuity correction arises. continuous[age | nodes].by_group: median, q1, q3 (quantile type 7, R's",
    "default), q1_type2/q3_type2 (type 2, gtsummary's p25/p75), min, max, mean, sd, on known values;",
    "test: kruskal.test(x ~ arm)."))

# ------------------------------------------------------------------ write ---
reference <- list(
  meta = list(
    generated_by = "tests/reference/colon_reference.R",
    data = csv_path, data_md5 = unname(tools::md5sum(csv_path)),
    data_source = "R survival::colon via examples/colon/data/make_colon_csv.R",
    r_version = R.version.string,
    packages = list(survival = as.character(packageVersion("survival")),
                    cmprsk = as.character(packageVersion("cmprsk")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    n_patients = nrow(d), groups = groups, arms = arms, reference_arm = "obs",
    time_unit = "days", year_days = year_days, landmark_years = landmark_years,
    landmark_days = landmarks, conf_level = conf_level, conf_types = conf_types),
  definitions = definitions,
  counts = counts, os = os, recurrence = recurrence, table1 = table1)
write_json(reference, file.path(out_dir, "colon_reference.json"),
           auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = TRUE)
cat("wrote", file.path(out_dir, "colon_reference.json"), "\n")
