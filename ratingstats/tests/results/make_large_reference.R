# lme4 reference for large.csv.gz (150,000 ratings, 1,599 drugs, 19,976 raters, 12 specialties).
#
#   python ratingstats/tests/results/make_large.py      # regenerates the input (deterministic)
#   Rscript ratingstats/tests/results/make_large_reference.R
#
# Writes large_lme4.json (fixed effects, variance components, REML criterion, the lme4 fit time
# with lme4's default control and with the tight control used for the numbers, versions) and
# large_lme4_items.csv.gz (per item: conditional mode, its condVar SD, the estimate for an
# average rater).  The Python tests only read these outputs; they never run R.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

d <- read.csv(gzfile(file.path(here, "large.csv.gz")), colClasses = "character")
d$score <- as.numeric(d$score)
d$item <- factor(d$item)
d$rater <- factor(d$rater)
d$group <- factor(d$rater_group)
form <- score ~ group + (1 | item) + (1 | rater)

# What an auditor would run: lme4's defaults.
# CPU seconds (user + system), not elapsed: the reference machine was shared, and the Python
# side of the speed comparison measures CPU time too.
cpu <- function(st) st[["user.self"]] + st[["sys.self"]]
t_default <- cpu(system.time(fit0 <- lmer(form, data = d, REML = TRUE)))

ctrl <- lmerControl(
  optimizer = "nloptwrap",
  optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12, maxeval = 1e5),
  check.conv.singular = "ignore"
)
t_tight <- cpu(system.time(fit <- lmer(form, data = d, REML = TRUE, control = ctrl)))

vc <- as.data.frame(VarCorr(fit))
sd_item <- vc$sdcor[vc$grp == "item"]
sd_rater <- vc$sdcor[vc$grp == "rater"]
sigma <- sigma(fit)
X <- model.matrix(fit)
xbar <- colMeans(X)
beta <- fixef(fit)
mu <- sum(xbar * beta)
re <- as.data.frame(ranef(fit, condVar = TRUE))
ri <- re[re$grpvar == "item", ]
ri <- ri[match(levels(d$item), as.character(ri$grp)), ]
items <- data.frame(
  item = levels(d$item),
  cond_mode = sprintf("%.9f", ri$condval),
  cond_sd = sprintf("%.9f", ri$condsd),
  estimate = sprintf("%.9f", mu + ri$condval),
  n_ratings = as.integer(table(d$item)[levels(d$item)])
)
out <- gzfile(file.path(here, "large_lme4_items.csv.gz"), "w")
write.csv(items, out, row.names = FALSE, quote = FALSE)
close(out)

vc0 <- as.data.frame(VarCorr(fit0))
summ <- list(
  dataset = "large",
  formula = paste(deparse(formula(fit)), collapse = " "),
  n = nrow(d),
  n_items = nlevels(d$item),
  n_raters = nlevels(d$rater),
  fixef = as.list(beta),
  mu = mu,
  sd_item = sd_item,
  sd_rater = sd_rater,
  sd_residual = sigma,
  reml_criterion = unname(REMLcrit(fit)),
  cpu_seconds_lmer_default = t_default,
  cpu_seconds_lmer_tight = t_tight,
  default_sd = list(item = vc0$sdcor[vc0$grp == "item"], rater = vc0$sdcor[vc0$grp == "rater"],
                    residual = sigma(fit0)),
  lme4_version = as.character(packageVersion("lme4")),
  r_version = R.version.string
)
write_json(summ, file.path(here, "large_lme4.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat(sprintf("large n=%d items=%d sd_item=%.6f sd_rater=%.6f sigma=%.6f lmer %.1f CPU s (default)\n",
            nrow(d), nlevels(d$item), sd_item, sd_rater, sigma, t_default))
