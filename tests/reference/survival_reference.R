# Reference values for analysis/survival.py, computed with R's survival package.
#
# Run from the repository root:  Rscript tests/reference/survival_reference.R
# Writes tests/reference/survival_reference.json and exports every dataset it
# uses to tests/reference/data/*.csv, so tests/test_survival.py runs without R.
# Needs R >= 4.2 with survival, MASS and jsonlite. Deterministic: rerunning it
# gives the same files.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

out_dir <- file.path("tests", "reference")
data_dir <- file.path(out_dir, "data")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)

conf_types <- c("plain", "log", "log-log", "logit", "arcsin")
probs <- c(0.25, 0.5, 0.75)

# ---------------------------------------------------------------- datasets ---
# Every dataset has columns time (>= 0) and status (1 = event, 0 = censored).

data(gehan, package = "MASS")
gehan_df <- data.frame(time = gehan$time, status = gehan$cens,
                       treat = as.character(gehan$treat), pair = gehan$pair)

lung_df <- data.frame(time = lung$time, status = as.integer(lung$status == 2),
                      sex = lung$sex, age = lung$age, ph_ecog = lung$ph.ecog)
lung_df$ecog_group <- ifelse(is.na(lung_df$ph_ecog), NA,
                             ifelse(lung_df$ph_ecog >= 2, "2+", as.character(lung_df$ph_ecog)))
# A second stratifier for the stratified log-rank: age at or above the median.
lung_df$age_group <- ifelse(lung_df$age >= 63, "63+", "<63")

# Ties: events and censorings share times, within and across groups.
ties_df <- data.frame(
  time   = c(1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 5, 5, 6, 6, 6, 7, 8, 8, 9, 9),
  status = c(1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0),
  group  = c("a", "b", "a", "b", "b", "a", "b", "a", "b", "a",
             "b", "a", "a", "b", "a", "b", "a", "b", "b", "a"))

# Heavy censoring: about three quarters censored, integer times (so ties too).
set.seed(20250228)
n_hc <- 60
arm <- rep(c("control", "experimental"), each = n_hc / 2)
event_time <- ceiling(rexp(n_hc, rate = ifelse(arm == "control", 1 / 300, 1 / 700)))
censor_time <- ceiling(runif(n_hc, 30, 400))
heavy_df <- data.frame(time = pmin(event_time, censor_time),
                       status = as.integer(event_time <= censor_time),
                       arm = arm,
                       site = rep(c("north", "south", "east"), length.out = n_hc))

# Small groups with special shapes, each analysed on its own.
edge_df <- rbind(
  data.frame(group = "all_censored", time = c(2, 4, 4, 7, 9), status = 0),
  data.frame(group = "single", time = 5, status = 1),
  data.frame(group = "reaches_zero", time = c(1, 2, 2, 4, 6, 8), status = c(1, 0, 1, 1, 0, 1)),
  data.frame(group = "midpoint", time = c(1, 2, 3, 4), status = 1),
  data.frame(group = "flat_half", time = c(1, 2, 3, 4), status = c(1, 1, 0, 0)),
  # S stays at exactly 0.5 from the third event to the last time: median 4.5.
  data.frame(group = "half_to_end", time = 1:6, status = c(1, 1, 1, 0, 0, 0)),
  # Censored before anyone dies: never at risk at an event time.
  data.frame(group = "censored_first", time = 0.5, status = 0))
edge_df <- edge_df[, c("time", "status", "group")]

# Events (and a censoring) at time 0, e.g. death on the day treatment started.
time_zero_df <- data.frame(
  time   = c(0, 0, 0, 1, 2, 2, 3, 5, 8, 8, 10, 12, 0, 4, 6, 6, 9, 11, 14, 15),
  status = c(1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1),
  group  = rep(c("x", "y"), times = c(12, 8)))

# Reverse Kaplan-Meier reaching exactly 0.5 and staying there (median follow-up 1).
follow_up_flat_df <- data.frame(time = c(0, 0, 0, 0, 0, 2), status = c(1, 1, 1, 0, 0, 0))

# Times in months from days, some a rounding error apart (relative 1e-12 to
# 3e-11): R's timefix (aeqSurv) treats them as tied. Read back from its CSV so
# R and Python see the same doubles.
timefix_df <- data.frame(
  time = lung_df$time / 30.4375 * (1 + rep(c(0, 1e-12, -3e-11, 2e-11), length.out = nrow(lung_df))),
  status = lung_df$status, sex = lung_df$sex)
write.csv(timefix_df, file.path(data_dir, "timefix.csv"), row.names = FALSE)
timefix_df <- read.csv(file.path(data_dir, "timefix.csv"))
stopifnot(length(unique(timefix_df$time)) > length(unique(aeqSurv(Surv(timefix_df$time, timefix_df$status))[, 1])))

# Every patient censored in both groups: survdiff gives chi-square 0, p NA.
all_censored_df <- data.frame(time = c(2, 4, 4, 7, 9, 3), status = 0,
                              group = c("a", "b", "a", "b", "a", "b"))

datasets <- list(gehan = gehan_df, lung = lung_df, ties = ties_df,
                 heavy_censoring = heavy_df, edge = edge_df, time_zero = time_zero_df,
                 follow_up_flat = follow_up_flat_df, all_censored = all_censored_df,
                 timefix = timefix_df)
for (name in names(datasets)) {
  write.csv(datasets[[name]], file.path(data_dir, paste0(name, ".csv")),
            row.names = FALSE, na = "")
}

# --------------------------------------------------------------- helpers ---

na_to_null <- function(x) if (length(x) == 0 || is.na(x)) NULL else x

km_entry <- function(name, subset_col, subset_value, d, conf_type) {
  fit <- survfit(Surv(time, status) ~ 1, data = d, conf.type = conf_type)
  # std.err of survfit is the SE of log S; the API reports the SE of S.
  table <- list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
                n_censor = fit$n.censor, surv = fit$surv,
                se = ifelse(fit$surv == 0, NA, fit$surv * fit$std.err),
                lower = fit$lower, upper = fit$upper)
  distinct <- sort(unique(d$time))
  last <- max(d$time)
  times <- sort(unique(c(0, distinct[1],
                         if (length(distinct) > 1) (distinct[1] + distinct[2]) / 2,
                         distinct[ceiling(length(distinct) / 2)],
                         distinct[ceiling(length(distinct) / 2)] + 0.5,
                         last, last + 1)))
  at <- lapply(times, function(t) {
    events <- sum(fit$n.event[fit$time <= t])  # on the times as timefix tied them
    if (t > last && min(fit$surv) > 0) {
      return(list(time = t, estimable = FALSE, n_risk = 0L, events = events))
    }
    # Past the last time a curve that reached 0 stays 0 (extend = TRUE).
    s <- summary(fit, times = t, extend = TRUE)
    list(time = t, estimable = TRUE, surv = s$surv, se = na_to_null(s$std.err),
         lower = na_to_null(s$lower), upper = na_to_null(s$upper),
         n_risk = s$n.risk, events = events)
  })
  q <- quantile(fit, probs = probs)
  quantiles <- lapply(seq_along(probs), function(i) {
    list(p = probs[i], estimate = na_to_null(unname(q$quantile[i])),
         lower = na_to_null(unname(q$lower[i])), upper = na_to_null(unname(q$upper[i])))
  })
  list(dataset = name, subset_column = subset_col, subset_value = subset_value,
       conf_type = conf_type, conf_level = 0.95, n = nrow(d), events = sum(d$status),
       table = table, at = at, quantiles = quantiles)
}

follow_up_entry <- function(name, d, conf_type) {
  fit <- survfit(Surv(time, 1 - status) ~ 1, data = d, conf.type = conf_type)
  q <- quantile(fit, probs = 0.5)
  alive <- d$time[d$status == 0]
  list(dataset = name, conf_type = conf_type, conf_level = 0.95,
       median = na_to_null(unname(q$quantile)), lower = na_to_null(unname(q$lower)),
       upper = na_to_null(unname(q$upper)), n_alive = length(alive),
       alive_min = if (length(alive)) min(alive) else NULL,
       alive_max = if (length(alive)) max(alive) else NULL)
}

logrank_entry <- function(name, d, group_col, strata_col = NULL) {
  # survdiff drops rows with a missing group or stratum; the tests do the same.
  d <- d[!is.na(d[[group_col]]), ]
  if (!is.null(strata_col)) d <- d[!is.na(d[[strata_col]]), ]
  d$g <- d[[group_col]]
  if (is.null(strata_col)) {
    fit <- survdiff(Surv(time, status) ~ g, data = d)
  } else {
    d$s <- d[[strata_col]]
    fit <- survdiff(Surv(time, status) ~ g + strata(s), data = d)
  }
  observed <- rowSums(as.matrix(fit$obs))
  expected <- rowSums(as.matrix(fit$exp))
  # No events: R's df is -1 and p NA; the API reports df 0 and p None.
  list(dataset = name, group_column = group_col, strata_column = strata_col,
       groups = sub("^g=", "", names(fit$n)), n = as.integer(fit$n),
       observed = observed, expected = expected, chisq = fit$chisq,
       df = max(sum(expected > 0) - 1L, 0L), p = na_to_null(fit$pvalue))
}

cox_entry <- function(name, d, covariates, ties) {
  fml <- as.formula(paste("Surv(time, status) ~", paste(covariates, collapse = " + ")))
  fit <- coxph(fml, data = d, ties = ties)
  s <- summary(fit, conf.int = 0.95)
  list(dataset = name, covariates = covariates, ties = ties, n = fit$n, events = fit$nevent,
       coef = unname(s$coefficients[, "coef"]), se = unname(s$coefficients[, "se(coef)"]),
       hazard_ratio = unname(s$conf.int[, "exp(coef)"]),
       lower = unname(s$conf.int[, "lower .95"]), upper = unname(s$conf.int[, "upper .95"]),
       p = unname(s$coefficients[, "Pr(>|z|)"]))
}

# ------------------------------------------------------------ references ---

subsets <- list(
  list("gehan", NULL), list("gehan", "treat"),
  list("lung", NULL), list("lung", "sex"),
  list("ties", NULL), list("ties", "group"),
  list("heavy_censoring", NULL), list("heavy_censoring", "arm"),
  list("edge", "group"),
  list("time_zero", NULL), list("time_zero", "group"),
  list("follow_up_flat", NULL),
  list("timefix", NULL), list("timefix", "sex"))

km <- list()
follow_up <- list()
for (s in subsets) {
  name <- s[[1]]; col <- s[[2]]; d <- datasets[[name]]
  parts <- if (is.null(col)) list(list(value = NULL, d = d)) else
    lapply(sort(unique(d[[col]])), function(v) list(value = v, d = d[d[[col]] == v, ]))
  for (part in parts) {
    for (ct in conf_types) km[[length(km) + 1]] <- km_entry(name, col, part$value, part$d, ct)
  }
  if (is.null(col)) {
    for (ct in conf_types) follow_up[[length(follow_up) + 1]] <- follow_up_entry(name, d, ct)
  }
}

# Covariates for coxph, coded as the Python tests pass them (0/1 indicators).
gehan_df$control <- as.integer(gehan_df$treat == "control")
lung_df$female <- as.integer(lung_df$sex == 2)
ties_df$b <- as.integer(ties_df$group == "b")
heavy_df$experimental <- as.integer(heavy_df$arm == "experimental")
time_zero_df$y <- as.integer(time_zero_df$group == "y")
timefix_df$female <- as.integer(timefix_df$sex == 2)

logrank <- list(
  logrank_entry("gehan", gehan_df, "treat"),
  logrank_entry("gehan", gehan_df, "treat", "pair"),
  logrank_entry("lung", lung_df, "sex"),
  logrank_entry("lung", lung_df, "ecog_group"),
  logrank_entry("lung", lung_df, "ph_ecog"),
  logrank_entry("lung", lung_df, "sex", "ecog_group"),
  logrank_entry("lung", lung_df, "sex", "age_group"),
  logrank_entry("ties", ties_df, "group"),
  logrank_entry("heavy_censoring", heavy_df, "arm"),
  logrank_entry("heavy_censoring", heavy_df, "arm", "site"),
  logrank_entry("heavy_censoring", heavy_df, "site"),
  logrank_entry("edge", edge_df[edge_df$group %in% c("all_censored", "single", "reaches_zero"), ], "group"),
  logrank_entry("edge", edge_df[edge_df$group %in% c("censored_first", "reaches_zero"), ], "group"),
  logrank_entry("time_zero", time_zero_df, "group"),
  logrank_entry("timefix", timefix_df, "sex"),
  logrank_entry("all_censored", all_censored_df, "group"))

cox <- list()
for (ties in c("efron", "breslow")) {
  cox <- c(cox, list(
    cox_entry("gehan", gehan_df, "control", ties),
    cox_entry("lung", lung_df, "female", ties),
    cox_entry("lung", lung_df, c("age", "female"), ties),
    cox_entry("ties", ties_df, "b", ties),
    cox_entry("heavy_censoring", heavy_df, "experimental", ties),
    cox_entry("time_zero", time_zero_df, "y", ties),
    cox_entry("timefix", timefix_df, "female", ties)))
}

# The figures of /work/shared/notes/r-vs-lifelines.md, recomputed here so a
# reader of the JSON sees that this R gives the known values.
gehan_lr <- survdiff(Surv(time, status) ~ treat, data = gehan_df)
lung_lr <- survdiff(Surv(time, status) ~ sex, data = lung_df)
sanity <- list(
  gehan_logrank_chisq = gehan_lr$chisq, gehan_logrank_p = gehan_lr$pvalue,
  gehan_median_6mp = unname(quantile(survfit(Surv(time, status) ~ 1, gehan_df[gehan_df$treat == "6-MP", ]), 0.5, conf.int = FALSE)),
  gehan_median_control = unname(quantile(survfit(Surv(time, status) ~ 1, gehan_df[gehan_df$treat == "control", ]), 0.5, conf.int = FALSE)),
  gehan_cox_efron_hr = unname(exp(coef(coxph(Surv(time, status) ~ control, gehan_df)))),
  gehan_cox_breslow_hr = unname(exp(coef(coxph(Surv(time, status) ~ control, gehan_df, ties = "breslow")))),
  lung_logrank_chisq = lung_lr$chisq, lung_logrank_p = lung_lr$pvalue,
  lung_cox_female_hr = unname(exp(coef(coxph(Surv(time, status) ~ female, lung_df)))),
  notes_say = paste("gehan: chisq 16.793, p 4.17e-5, medians 23 and 8, HR 4.817 (Efron), 4.523 (Breslow);",
                    "lung: chisq 10.327, p 0.00131, HR 0.588"))

# ------------------------------------------------- synthetic example cohort ---
# Overall survival from the cohort's dates, only if the file exists: from the
# first InO dose to death, censored at last contact or at the data cut-off
# (study.yml), whichever comes first.

cohort_path <- file.path("data", "example_cohort.csv")
example_cohort <- NULL
if (file.exists(cohort_path)) {
  cohort <- read.csv(cohort_path, stringsAsFactors = FALSE, na.strings = "")
  cutoff <- as.Date(sub("^  cutoff_date: *", "", grep("^  cutoff_date:", readLines("study.yml"), value = TRUE)))
  start <- as.Date(cohort$ino_start_date)
  death <- as.Date(cohort$death_date)
  died <- cohort$vital_status == "dead" & !is.na(death) & death <= cutoff
  end <- as.Date(cohort$last_contact_date)
  end[died] <- death[died]
  end <- pmin(end, cutoff)
  cohort$time <- as.numeric(end - start)
  cohort$status <- as.integer(died)
  landmark <- 730.5
  km_at <- function(d) {
    fit <- survfit(Surv(time, status) ~ 1, data = d, conf.type = "plain")
    if (landmark > max(d$time)) return(list(n = nrow(d), estimable = FALSE))
    s <- summary(fit, times = landmark)
    list(n = nrow(d), estimable = TRUE, surv = s$surv, se = s$std.err,
         lower = s$lower, upper = s$upper, n_risk = s$n.risk)
  }
  by <- function(flag) {
    list(yes = km_at(cohort[flag, ]), no = km_at(cohort[!flag, ]),
         logrank_p = survdiff(Surv(time, status) ~ flag, data = cohort)$pvalue)
  }
  example_cohort <- list(
    md5 = unname(tools::md5sum(cohort_path)), cutoff_date = format(cutoff),
    landmark_days = landmark, conf_type = "plain",
    overall = km_at(cohort),
    mrd_negative_remission = by(cohort$response == "mrd_negative_remission"),
    prior_blinatumomab = by(cohort$prior_blinatumomab == "yes"))
}

# ------------------------------------------------------------------ write ---

reference <- list(
  generated_by = "tests/reference/survival_reference.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  notes_sanity_check = sanity,
  km = km, follow_up = follow_up, logrank = logrank, cox = cox,
  example_cohort = example_cohort)
write_json(reference, file.path(out_dir, "survival_reference.json"),
           auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = TRUE)
cat("wrote", file.path(out_dir, "survival_reference.json"), "\n")
