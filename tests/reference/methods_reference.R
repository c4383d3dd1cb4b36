# Reference values for the methods of issue 16: Cox models on counting-process
# data and with several covariates (analysis/cox.py), landmark analysis and a
# time-dependent Cox model on the example cohort (analysis/study.py).
#
# Run from the repository root:  Rscript tests/reference/methods_reference.R
# Writes tests/reference/methods_reference.json and the datasets it uses to
# tests/reference/data/, so tests/test_methods.py runs without R.
# Needs R >= 4.2 with survival (3.5-3) and jsonlite. Deterministic.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

out_dir <- file.path("tests", "reference")
data_dir <- file.path(out_dir, "data")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
na_to_null <- function(x) if (length(x) == 0 || is.na(x)) NULL else x

# --------------------------------------------------------------- Cox models ---

# survival::heart (Stanford heart transplant), counting-process rows:
# transplant switches on at the transplant, as tmerge builds it.
heart_df <- data.frame(id = heart$id, start = heart$start, stop = heart$stop, event = heart$event,
                       transplant = as.integer(as.character(heart$transplant)), age = heart$age,
                       surgery = heart$surgery)
write.csv(heart_df, file.path(data_dir, "heart.csv"), row.names = FALSE)

# lung with ECOG as a category against ECOG 0 (the reference level), sex female vs male.
lung_df <- read.csv(file.path(data_dir, "lung.csv"))
lung_cc <- lung_df[!is.na(lung_df$ph_ecog), ]
lung_cc$ecog <- factor(ifelse(lung_cc$ph_ecog >= 2, "2+", as.character(lung_cc$ph_ecog)), levels = c("0", "1", "2+"))
lung_cc$female <- as.integer(lung_cc$sex == 2)

model_entry <- function(name, fit, covariates) {
  s <- summary(fit, conf.int = 0.95)
  cc <- concordance(fit)
  df <- length(coef(fit))
  test <- function(statistic, df) unname(c(statistic, df, pchisq(statistic, df, lower.tail = FALSE)))
  list(name = name, covariates = covariates, ties = fit$method, n = fit$n, events = fit$nevent,
       coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))),
       hazard_ratio = unname(s$conf.int[, "exp(coef)"]),
       lower = unname(s$conf.int[, "lower .95"]), upper = unname(s$conf.int[, "upper .95"]),
       p = unname(s$coefficients[, "Pr(>|z|)"]),
       loglik = unname(fit$loglik),
       # summary(coxph) rounds the Wald and score tests for printing: the unrounded statistics.
       likelihood_ratio = test(2 * diff(fit$loglik), df), wald = test(fit$wald.test, df),
       score = test(fit$score, df),
       concordance = unname(cc$concordance))
}

models <- list()
for (ties in c("efron", "breslow")) {
  models[[length(models) + 1]] <- model_entry(
    paste0("heart-", ties),
    coxph(Surv(start, stop, event) ~ transplant + age + surgery, data = heart_df, ties = ties),
    c("transplant", "age", "surgery"))
  models[[length(models) + 1]] <- model_entry(
    paste0("lung-", ties),
    coxph(Surv(time, status) ~ female + ecog + age, data = lung_cc, ties = ties),
    c("female", "ecog=1", "ecog=2+", "age"))
}

# ------------------------------------------ landmark on the example cohort ---
# Overall survival as survival_reference.R derives it; response known at the
# landmark (study.yml: comparisons.mrd_negative_remission.landmark).

landmark <- NULL
cohort_path <- file.path("data", "example_cohort.csv")
if (file.exists(cohort_path)) {
  cohort <- read.csv(cohort_path, stringsAsFactors = FALSE, na.strings = "")
  cutoff <- as.Date(sub("^  cutoff_date: *", "", grep("^  cutoff_date:", readLines("study.yml"), value = TRUE)))
  start <- as.Date(cohort$ino_start_date)
  death <- as.Date(cohort$death_date)
  died <- cohort$vital_status == "dead" & !is.na(death) & death <= cutoff
  end <- as.Date(cohort$last_contact_date)
  end[died] <- death[died]
  end <- pmin(end, cutoff)
  os <- data.frame(id = seq_len(nrow(cohort)), time = as.numeric(end - start), status = as.integer(died),
                   responder = as.integer(cohort$response == "mrd_negative_remission"))
  L <- 60
  horizon <- 730.5
  # Patients at risk at day L (time >= L, as n.risk counts), time from L.
  lm <- subset(os, time >= L)
  lm$time <- lm$time - L
  lm$group <- factor(ifelse(lm$responder == 1, "yes", "no"), levels = c("yes", "no"))
  km <- lapply(c("yes", "no"), function(g) {
    fit <- survfit(Surv(time, status) ~ 1, data = lm[lm$group == g, ], conf.type = "plain")
    s <- summary(fit, times = horizon)
    list(level = g, n = sum(lm$group == g), surv = s$surv, se = s$std.err, lower = s$lower, upper = s$upper)
  })
  lm_cox <- coxph(Surv(time, status) ~ I(group == "yes"), data = lm)
  # Time-dependent covariate: response switches on at day L (no response date is recorded).
  td <- tmerge(os[, c("id", "responder")], os, id = id, death = event(time, status),
               response_td = tdc(ifelse(responder == 1, L, NA)))
  td_cox <- coxph(Surv(tstart, tstop, death) ~ response_td, data = td)
  landmark <- list(
    md5 = unname(tools::md5sum(cohort_path)), landmark_days = L, horizon_days = horizon,
    n = nrow(lm), excluded = nrow(os) - nrow(lm), excluded_events = sum(os$status[os$time < L]),
    km = km, logrank_chisq = survdiff(Surv(time, status) ~ group, data = lm)$chisq,
    logrank_p = survdiff(Surv(time, status) ~ group, data = lm)$pvalue,
    cox = model_entry("landmark", lm_cox, "yes"),
    time_dependent = model_entry("time_dependent", td_cox, "response_td"),
    time_dependent_rows = nrow(td))
}

reference <- list(
  generated_by = "tests/reference/methods_reference.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  models = models, landmark = landmark)
write_json(reference, file.path(out_dir, "methods_reference.json"),
           auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = TRUE)
cat("wrote", file.path(out_dir, "methods_reference.json"), "\n")
