# Ordinal reference for the sensitivity check (ratingstats/validation/sensitivity.py).
#
#   python -m ratingstats.validation.sensitivity          # regenerates ordinal.csv.gz
#   Rscript ratingstats/tests/results/make_clmm_reference.R
#
# Fits the cumulative-logit mixed model clmm(ordered(score) ~ 1 + (1|item) + (1|rater)) (R package
# ordinal, Laplace approximation) to the 5,960 integer ratings of ordinal.csv.gz and writes
# ordinal_clmm.json (thresholds, random-effect SDs, log-likelihood, versions) and
# ordinal_clmm_items.csv.gz (per item: clmm's conditional mode of the drug effect).  The Python
# tests and `make validate` only read these outputs; they never run R.

suppressPackageStartupMessages({
  library(ordinal)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

d <- read.csv(gzfile(file.path(here, "ordinal.csv.gz")), colClasses = "character")
d$score <- factor(d$score, levels = as.character(1:5), ordered = TRUE)
d$item <- factor(d$item)
d$rater <- factor(d$rater)

cpu <- function(st) st[["user.self"]] + st[["sys.self"]]
t <- cpu(system.time(fit <- clmm(score ~ 1 + (1 | item) + (1 | rater), data = d, link = "logit",
                                  nAGQ = 1L)))
re <- ranef(fit)$item
items <- data.frame(item = rownames(re), clmm_effect = sprintf("%.8f", re[, 1]))
out <- gzfile(file.path(here, "ordinal_clmm_items.csv.gz"), "w")
write.csv(items, out, row.names = FALSE, quote = FALSE)
close(out)

vc <- VarCorr(fit)
summ <- list(
  dataset = "ordinal",
  formula = "clmm(ordered(score) ~ 1 + (1 | item) + (1 | rater), link = 'logit', nAGQ = 1)",
  n = nrow(d),
  n_items = nlevels(d$item),
  n_raters = nlevels(d$rater),
  thresholds = unname(fit$alpha),
  sd_item = unname(sqrt(vc$item[1, 1])),
  sd_rater = unname(sqrt(vc$rater[1, 1])),
  logLik = as.numeric(logLik(fit)),
  cpu_seconds = t,
  ordinal_version = as.character(packageVersion("ordinal")),
  r_version = R.version.string
)
write_json(summ, file.path(here, "ordinal_clmm.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
cat(sprintf("ordinal n=%d sd_item=%.4f sd_rater=%.4f (%.1f CPU s)\n", nrow(d), summ$sd_item,
            summ$sd_rater, t))
