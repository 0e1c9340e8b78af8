WITH icp_rows AS MATERIALIZED (
SELECT
  "t0"."domain",
  "t0"."name",
  0 + (
    CAST(CAST(CASE LOWER("t0"."industry")
      WHEN 'computer software'
      THEN 1
      WHEN 'software'
      THEN 1
      WHEN 'saas'
      THEN 1
      WHEN 'internet'
      THEN 2
      WHEN 'information technology and services'
      THEN 3
      WHEN 'marketing and advertising'
      THEN 4
      WHEN 'financial services'
      THEN 5
      WHEN 'software development'
      THEN 1
      WHEN 'software_development'
      THEN 1
      WHEN 'computer_software'
      THEN 1
      WHEN 'technology, information and internet'
      THEN 2
      WHEN 'technology, information & internet'
      THEN 2
      WHEN 'technology_information_and_internet'
      THEN 2
      WHEN 'it services and it consulting'
      THEN 3
      WHEN 'it services & it consulting'
      THEN 3
      WHEN 'it_services_and_it_consulting'
      THEN 3
      WHEN 'information technology & services'
      THEN 3
      WHEN 'information_technology_and_services'
      THEN 3
      WHEN 'it services'
      THEN 3
      WHEN 'it_services'
      THEN 3
      WHEN 'information technology'
      THEN 3
      WHEN 'information_technology'
      THEN 3
      WHEN 'advertising services'
      THEN 4
      WHEN 'advertising_services'
      THEN 4
      WHEN 'marketing & advertising'
      THEN 4
      WHEN 'marketing_and_advertising'
      THEN 4
      WHEN 'financial_services'
      THEN 5
      WHEN 'finance'
      THEN 5
      WHEN 'insurance'
      THEN 5
      WHEN 'capital markets'
      THEN 5
      WHEN 'capital_markets'
      THEN 5
      WHEN 'credit intermediation'
      THEN 5
      WHEN 'credit_intermediation'
      THEN 5
      WHEN 'funds and trusts'
      THEN 5
      WHEN 'funds & trusts'
      THEN 5
      WHEN 'funds_and_trusts'
      THEN 5
      WHEN 'insurance carriers'
      THEN 5
      WHEN 'insurance_carriers'
      THEN 5
      WHEN 'insurance agencies and brokerages'
      THEN 5
      WHEN 'insurance agencies & brokerages'
      THEN 5
      WHEN 'insurance_agencies_and_brokerages'
      THEN 5
      WHEN 'claims adjusting, actuarial services'
      THEN 5
      WHEN 'claims_adjusting_actuarial_services'
      THEN 5
      WHEN 'investment banking'
      THEN 5
      WHEN 'investment_banking'
      THEN 5
      WHEN 'investment management'
      THEN 5
      WHEN 'investment_management'
      THEN 5
      WHEN 'venture capital and private equity principals'
      THEN 5
      WHEN 'venture capital & private equity principals'
      THEN 5
      WHEN 'venture_capital_and_private_equity_principals'
      THEN 5
      WHEN 'venture capital & private equity'
      THEN 5
      WHEN 'venture capital and private equity'
      THEN 5
      WHEN 'venture_capital_private_equity'
      THEN 5
      WHEN 'securities and commodity exchanges'
      THEN 5
      WHEN 'securities & commodity exchanges'
      THEN 5
      WHEN 'securities_and_commodity_exchanges'
      THEN 5
      WHEN 'investment advice'
      THEN 5
      WHEN 'investment_advice'
      THEN 5
      WHEN 'banking'
      THEN 5
      WHEN 'international trade and development'
      THEN 5
      WHEN 'international trade & development'
      THEN 5
      WHEN 'international_trade_and_development'
      THEN 5
      WHEN 'savings institutions'
      THEN 5
      WHEN 'savings_institutions'
      THEN 5
      WHEN 'loan brokers'
      THEN 5
      WHEN 'loan_brokers'
      THEN 5
      WHEN 'insurance and employee benefit funds'
      THEN 5
      WHEN 'insurance & employee benefit funds'
      THEN 5
      WHEN 'insurance_and_employee_benefit_funds'
      THEN 5
      WHEN 'pension funds'
      THEN 5
      WHEN 'pension_funds'
      THEN 5
      WHEN 'trusts and estates'
      THEN 5
      WHEN 'trusts & estates'
      THEN 5
      WHEN 'trusts_and_estates'
      THEN 5
      ELSE 6
    END * CAST("t0"."industry" IS NOT NULL AS INT) AS TINYINT) AS BIGINT) * 1
  ) + (
    CAST(CASE
      WHEN "t0"."employees" IS NULL
      THEN 0
      WHEN (
        "t0"."employees" >= 50.0
      ) AND (
        "t0"."employees" <= 500.0
      )
      THEN 1
      WHEN (
        (
          "t0"."employees" >= 37.5
        ) AND (
          "t0"."employees" < 50.0
        )
      )
      OR (
        (
          "t0"."employees" > 500.0
        ) AND (
          "t0"."employees" <= 625.0
        )
      )
      THEN 2
      ELSE 3
    END AS BIGINT) * 7
  ) + (
    CAST(CASE
      WHEN "t0"."technologies" IS NULL
      THEN 0
      WHEN ARRAY_CONTAINS("t0"."technologies", 'salesforce')
      THEN 1
      WHEN ARRAY_CONTAINS("t0"."technologies", 'hubspot')
      THEN 2
      ELSE 3
    END AS BIGINT) * 28
  ) + (
    CAST(CAST(CASE LOWER("t0"."country")
      WHEN 'us'
      THEN 1
      WHEN 'ca'
      THEN 2
      WHEN 'gb'
      THEN 3
      WHEN 'ie'
      THEN 4
      WHEN 'au'
      THEN 5
      ELSE 6
    END * CAST("t0"."country" IS NOT NULL AS INT) AS TINYINT) AS BIGINT) * 112
  ) + (
    CAST(CASE
      WHEN "t0"."days_since_funding" IS NULL
      THEN 0
      WHEN "t0"."days_since_funding" <= 90.0
      THEN 1
      WHEN "t0"."days_since_funding" <= 365.0
      THEN 2
      WHEN "t0"."days_since_funding" <= 730.0
      THEN 3
      ELSE 4
    END AS BIGINT) * 784
  ) + (
    CAST(CASE WHEN COALESCE(LOWER("t0"."business_model") = 'agency', FALSE) THEN 1 ELSE 0 END AS BIGINT) * 3920
  ) + (
    CAST(CASE WHEN COALESCE("t0"."employees" < 10.0, FALSE) THEN 1 ELSE 0 END AS BIGINT) * 7840
  ) AS "_key"
FROM "icp_accounts" AS "t0"
),
icp_combos AS (
SELECT
  "t4"."_key",
  "t4"."_c_industry",
  "t4"."_c_employees",
  "t4"."_c_technologies",
  "t4"."_c_country",
  "t4"."_c_days_since_funding",
  "t4"."_a_agency",
  "t4"."_dq",
  "t4"."points_industry",
  "t4"."points_employees",
  "t4"."points_technologies",
  "t4"."points_country",
  "t4"."points_days_since_funding",
  "t4"."points_agency",
  "t4"."fit_score",
  CASE
    WHEN "t4"."_dq" = 1
    THEN 'disqualify'
    ELSE CASE
      WHEN "t4"."fit_score" >= 70.0
      THEN 'high'
      WHEN "t4"."fit_score" >= 40.0
      THEN 'monitor'
      ELSE 'disqualify'
    END
  END AS "tier",
  CASE
    WHEN CASE
      WHEN "t4"."_dq" = 1
      THEN 'disqualify'
      ELSE CASE
        WHEN "t4"."fit_score" >= 70.0
        THEN 'high'
        WHEN "t4"."fit_score" >= 40.0
        THEN 'monitor'
        ELSE 'disqualify'
      END
    END = 'high'
    THEN 'ae_queue'
    WHEN CASE
      WHEN "t4"."_dq" = 1
      THEN 'disqualify'
      ELSE CASE
        WHEN "t4"."fit_score" >= 70.0
        THEN 'high'
        WHEN "t4"."fit_score" >= 40.0
        THEN 'monitor'
        ELSE 'disqualify'
      END
    END = 'monitor'
    THEN 'nurture'
    WHEN CASE
      WHEN "t4"."_dq" = 1
      THEN 'disqualify'
      ELSE CASE
        WHEN "t4"."fit_score" >= 70.0
        THEN 'high'
        WHEN "t4"."fit_score" >= 40.0
        THEN 'monitor'
        ELSE 'disqualify'
      END
    END = 'disqualify'
    THEN 'suppress'
    ELSE CAST(NULL AS TEXT)
  END AS "route",
  CASE WHEN "t4"."_dq" = 1 THEN 'too_small' ELSE CAST(NULL AS TEXT) END AS "disqualified_by",
  CASE
    WHEN "t4"."_dq" = 1
    THEN CASE
      WHEN LENGTH(
        COALESCE(
          ARRAY_TO_STRING(
            CASE
              WHEN LIST_APPLY(
                LIST_SLICE(
                  LIST_SORT(
                    LIST_FILTER(
                      CAST([
                        CASE
                          WHEN "t4"."_c_industry" = 1
                          THEN 0
                          WHEN "t4"."_c_industry" = 2
                          THEN 1
                          WHEN "t4"."_c_industry" = 3
                          THEN 8
                          WHEN "t4"."_c_industry" = 4
                          THEN 15
                          WHEN "t4"."_c_industry" = 5
                          THEN 14
                          ELSE CAST(NULL AS INT)
                        END,
                        CASE
                          WHEN "t4"."_c_employees" = 1
                          THEN 3
                          WHEN "t4"."_c_employees" = 2
                          THEN 9
                          ELSE CAST(NULL AS INT)
                        END,
                        CASE
                          WHEN "t4"."_c_technologies" = 0
                          THEN 17
                          WHEN "t4"."_c_technologies" = 1
                          THEN 4
                          WHEN "t4"."_c_technologies" = 2
                          THEN 10
                          WHEN "t4"."_c_technologies" = 3
                          THEN 18
                          ELSE CAST(NULL AS INT)
                        END,
                        CASE
                          WHEN "t4"."_c_country" = 1
                          THEN 6
                          WHEN "t4"."_c_country" = 2
                          THEN 5
                          WHEN "t4"."_c_country" = 3
                          THEN 12
                          WHEN "t4"."_c_country" = 4
                          THEN 13
                          WHEN "t4"."_c_country" = 5
                          THEN 11
                          ELSE CAST(NULL AS INT)
                        END,
                        CASE
                          WHEN "t4"."_c_days_since_funding" = 1
                          THEN 2
                          WHEN "t4"."_c_days_since_funding" = 2
                          THEN 7
                          WHEN "t4"."_c_days_since_funding" = 3
                          THEN 16
                          ELSE CAST(NULL AS INT)
                        END
                      ] AS INT[]),
                      LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                    )
                  ),
                  1,
                  3
                ),
                LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                  [
                    'industry: computer software (+25)',
                    'industry: internet (+25)',
                    'days_since_funding: funded in the last 90 days (+20)',
                    'employees: in 50-500 (+20)',
                    'technologies: has Salesforce (+20)',
                    'country: CA (+15)',
                    'country: US (+15)',
                    'days_since_funding: funded in the last year (+14)',
                    'industry: information technology and services (+12)',
                    'employees: within 25% of 50-500 (+10)',
                    'technologies: has HubSpot (competitor) (+8)',
                    'country: AU (+7)',
                    'country: GB (+7)',
                    'country: IE (+7)',
                    'industry: financial services (+6)',
                    'industry: marketing and advertising (+6)',
                    'days_since_funding: funded in the last two years (+5)',
                    'technologies: missing (+3)',
                    'technologies: none of the listed (+3)'
                  ],
                  __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
                )
              ) IS NULL
              OR LIST_APPLY(
                LIST_SLICE(
                  LIST_SORT(
                    LIST_FILTER(
                      CAST([CASE WHEN "t4"."_a_agency" = 1 THEN 0 ELSE CAST(NULL AS INT) END] AS INT[]),
                      LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                    )
                  ),
                  1,
                  2
                ),
                LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                  ['agencies churn within a year (-15)'],
                  __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
                )
              ) IS NULL
              THEN NULL
              ELSE LIST_CONCAT(
                LIST_APPLY(
                  LIST_SLICE(
                    LIST_SORT(
                      LIST_FILTER(
                        CAST([
                          CASE
                            WHEN "t4"."_c_industry" = 1
                            THEN 0
                            WHEN "t4"."_c_industry" = 2
                            THEN 1
                            WHEN "t4"."_c_industry" = 3
                            THEN 8
                            WHEN "t4"."_c_industry" = 4
                            THEN 15
                            WHEN "t4"."_c_industry" = 5
                            THEN 14
                            ELSE CAST(NULL AS INT)
                          END,
                          CASE
                            WHEN "t4"."_c_employees" = 1
                            THEN 3
                            WHEN "t4"."_c_employees" = 2
                            THEN 9
                            ELSE CAST(NULL AS INT)
                          END,
                          CASE
                            WHEN "t4"."_c_technologies" = 0
                            THEN 17
                            WHEN "t4"."_c_technologies" = 1
                            THEN 4
                            WHEN "t4"."_c_technologies" = 2
                            THEN 10
                            WHEN "t4"."_c_technologies" = 3
                            THEN 18
                            ELSE CAST(NULL AS INT)
                          END,
                          CASE
                            WHEN "t4"."_c_country" = 1
                            THEN 6
                            WHEN "t4"."_c_country" = 2
                            THEN 5
                            WHEN "t4"."_c_country" = 3
                            THEN 12
                            WHEN "t4"."_c_country" = 4
                            THEN 13
                            WHEN "t4"."_c_country" = 5
                            THEN 11
                            ELSE CAST(NULL AS INT)
                          END,
                          CASE
                            WHEN "t4"."_c_days_since_funding" = 1
                            THEN 2
                            WHEN "t4"."_c_days_since_funding" = 2
                            THEN 7
                            WHEN "t4"."_c_days_since_funding" = 3
                            THEN 16
                            ELSE CAST(NULL AS INT)
                          END
                        ] AS INT[]),
                        LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                      )
                    ),
                    1,
                    3
                  ),
                  LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                    [
                      'industry: computer software (+25)',
                      'industry: internet (+25)',
                      'days_since_funding: funded in the last 90 days (+20)',
                      'employees: in 50-500 (+20)',
                      'technologies: has Salesforce (+20)',
                      'country: CA (+15)',
                      'country: US (+15)',
                      'days_since_funding: funded in the last year (+14)',
                      'industry: information technology and services (+12)',
                      'employees: within 25% of 50-500 (+10)',
                      'technologies: has HubSpot (competitor) (+8)',
                      'country: AU (+7)',
                      'country: GB (+7)',
                      'country: IE (+7)',
                      'industry: financial services (+6)',
                      'industry: marketing and advertising (+6)',
                      'days_since_funding: funded in the last two years (+5)',
                      'technologies: missing (+3)',
                      'technologies: none of the listed (+3)'
                    ],
                    __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
                  )
                ),
                LIST_APPLY(
                  LIST_SLICE(
                    LIST_SORT(
                      LIST_FILTER(
                        CAST([CASE WHEN "t4"."_a_agency" = 1 THEN 0 ELSE CAST(NULL AS INT) END] AS INT[]),
                        LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                      )
                    ),
                    1,
                    2
                  ),
                  LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                    ['agencies churn within a year (-15)'],
                    __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
                  )
                )
              )
            END,
            '; '
          ),
          ''
        )
      ) > 0
      THEN 'disqualified: fewer than 10 employees cannot staff a revenue team; ' || COALESCE(
        ARRAY_TO_STRING(
          CASE
            WHEN LIST_APPLY(
              LIST_SLICE(
                LIST_SORT(
                  LIST_FILTER(
                    CAST([
                      CASE
                        WHEN "t4"."_c_industry" = 1
                        THEN 0
                        WHEN "t4"."_c_industry" = 2
                        THEN 1
                        WHEN "t4"."_c_industry" = 3
                        THEN 8
                        WHEN "t4"."_c_industry" = 4
                        THEN 15
                        WHEN "t4"."_c_industry" = 5
                        THEN 14
                        ELSE CAST(NULL AS INT)
                      END,
                      CASE
                        WHEN "t4"."_c_employees" = 1
                        THEN 3
                        WHEN "t4"."_c_employees" = 2
                        THEN 9
                        ELSE CAST(NULL AS INT)
                      END,
                      CASE
                        WHEN "t4"."_c_technologies" = 0
                        THEN 17
                        WHEN "t4"."_c_technologies" = 1
                        THEN 4
                        WHEN "t4"."_c_technologies" = 2
                        THEN 10
                        WHEN "t4"."_c_technologies" = 3
                        THEN 18
                        ELSE CAST(NULL AS INT)
                      END,
                      CASE
                        WHEN "t4"."_c_country" = 1
                        THEN 6
                        WHEN "t4"."_c_country" = 2
                        THEN 5
                        WHEN "t4"."_c_country" = 3
                        THEN 12
                        WHEN "t4"."_c_country" = 4
                        THEN 13
                        WHEN "t4"."_c_country" = 5
                        THEN 11
                        ELSE CAST(NULL AS INT)
                      END,
                      CASE
                        WHEN "t4"."_c_days_since_funding" = 1
                        THEN 2
                        WHEN "t4"."_c_days_since_funding" = 2
                        THEN 7
                        WHEN "t4"."_c_days_since_funding" = 3
                        THEN 16
                        ELSE CAST(NULL AS INT)
                      END
                    ] AS INT[]),
                    LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                  )
                ),
                1,
                3
              ),
              LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                [
                  'industry: computer software (+25)',
                  'industry: internet (+25)',
                  'days_since_funding: funded in the last 90 days (+20)',
                  'employees: in 50-500 (+20)',
                  'technologies: has Salesforce (+20)',
                  'country: CA (+15)',
                  'country: US (+15)',
                  'days_since_funding: funded in the last year (+14)',
                  'industry: information technology and services (+12)',
                  'employees: within 25% of 50-500 (+10)',
                  'technologies: has HubSpot (competitor) (+8)',
                  'country: AU (+7)',
                  'country: GB (+7)',
                  'country: IE (+7)',
                  'industry: financial services (+6)',
                  'industry: marketing and advertising (+6)',
                  'days_since_funding: funded in the last two years (+5)',
                  'technologies: missing (+3)',
                  'technologies: none of the listed (+3)'
                ],
                __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
              )
            ) IS NULL
            OR LIST_APPLY(
              LIST_SLICE(
                LIST_SORT(
                  LIST_FILTER(
                    CAST([CASE WHEN "t4"."_a_agency" = 1 THEN 0 ELSE CAST(NULL AS INT) END] AS INT[]),
                    LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                  )
                ),
                1,
                2
              ),
              LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                ['agencies churn within a year (-15)'],
                __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
              )
            ) IS NULL
            THEN NULL
            ELSE LIST_CONCAT(
              LIST_APPLY(
                LIST_SLICE(
                  LIST_SORT(
                    LIST_FILTER(
                      CAST([
                        CASE
                          WHEN "t4"."_c_industry" = 1
                          THEN 0
                          WHEN "t4"."_c_industry" = 2
                          THEN 1
                          WHEN "t4"."_c_industry" = 3
                          THEN 8
                          WHEN "t4"."_c_industry" = 4
                          THEN 15
                          WHEN "t4"."_c_industry" = 5
                          THEN 14
                          ELSE CAST(NULL AS INT)
                        END,
                        CASE
                          WHEN "t4"."_c_employees" = 1
                          THEN 3
                          WHEN "t4"."_c_employees" = 2
                          THEN 9
                          ELSE CAST(NULL AS INT)
                        END,
                        CASE
                          WHEN "t4"."_c_technologies" = 0
                          THEN 17
                          WHEN "t4"."_c_technologies" = 1
                          THEN 4
                          WHEN "t4"."_c_technologies" = 2
                          THEN 10
                          WHEN "t4"."_c_technologies" = 3
                          THEN 18
                          ELSE CAST(NULL AS INT)
                        END,
                        CASE
                          WHEN "t4"."_c_country" = 1
                          THEN 6
                          WHEN "t4"."_c_country" = 2
                          THEN 5
                          WHEN "t4"."_c_country" = 3
                          THEN 12
                          WHEN "t4"."_c_country" = 4
                          THEN 13
                          WHEN "t4"."_c_country" = 5
                          THEN 11
                          ELSE CAST(NULL AS INT)
                        END,
                        CASE
                          WHEN "t4"."_c_days_since_funding" = 1
                          THEN 2
                          WHEN "t4"."_c_days_since_funding" = 2
                          THEN 7
                          WHEN "t4"."_c_days_since_funding" = 3
                          THEN 16
                          ELSE CAST(NULL AS INT)
                        END
                      ] AS INT[]),
                      LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                    )
                  ),
                  1,
                  3
                ),
                LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                  [
                    'industry: computer software (+25)',
                    'industry: internet (+25)',
                    'days_since_funding: funded in the last 90 days (+20)',
                    'employees: in 50-500 (+20)',
                    'technologies: has Salesforce (+20)',
                    'country: CA (+15)',
                    'country: US (+15)',
                    'days_since_funding: funded in the last year (+14)',
                    'industry: information technology and services (+12)',
                    'employees: within 25% of 50-500 (+10)',
                    'technologies: has HubSpot (competitor) (+8)',
                    'country: AU (+7)',
                    'country: GB (+7)',
                    'country: IE (+7)',
                    'industry: financial services (+6)',
                    'industry: marketing and advertising (+6)',
                    'days_since_funding: funded in the last two years (+5)',
                    'technologies: missing (+3)',
                    'technologies: none of the listed (+3)'
                  ],
                  __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
                )
              ),
              LIST_APPLY(
                LIST_SLICE(
                  LIST_SORT(
                    LIST_FILTER(
                      CAST([CASE WHEN "t4"."_a_agency" = 1 THEN 0 ELSE CAST(NULL AS INT) END] AS INT[]),
                      LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                    )
                  ),
                  1,
                  2
                ),
                LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                  ['agencies churn within a year (-15)'],
                  __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
                )
              )
            )
          END,
          '; '
        ),
        ''
      )
      ELSE 'disqualified: fewer than 10 employees cannot staff a revenue team'
    END
    ELSE COALESCE(
      ARRAY_TO_STRING(
        CASE
          WHEN LIST_APPLY(
            LIST_SLICE(
              LIST_SORT(
                LIST_FILTER(
                  CAST([
                    CASE
                      WHEN "t4"."_c_industry" = 1
                      THEN 0
                      WHEN "t4"."_c_industry" = 2
                      THEN 1
                      WHEN "t4"."_c_industry" = 3
                      THEN 8
                      WHEN "t4"."_c_industry" = 4
                      THEN 15
                      WHEN "t4"."_c_industry" = 5
                      THEN 14
                      ELSE CAST(NULL AS INT)
                    END,
                    CASE
                      WHEN "t4"."_c_employees" = 1
                      THEN 3
                      WHEN "t4"."_c_employees" = 2
                      THEN 9
                      ELSE CAST(NULL AS INT)
                    END,
                    CASE
                      WHEN "t4"."_c_technologies" = 0
                      THEN 17
                      WHEN "t4"."_c_technologies" = 1
                      THEN 4
                      WHEN "t4"."_c_technologies" = 2
                      THEN 10
                      WHEN "t4"."_c_technologies" = 3
                      THEN 18
                      ELSE CAST(NULL AS INT)
                    END,
                    CASE
                      WHEN "t4"."_c_country" = 1
                      THEN 6
                      WHEN "t4"."_c_country" = 2
                      THEN 5
                      WHEN "t4"."_c_country" = 3
                      THEN 12
                      WHEN "t4"."_c_country" = 4
                      THEN 13
                      WHEN "t4"."_c_country" = 5
                      THEN 11
                      ELSE CAST(NULL AS INT)
                    END,
                    CASE
                      WHEN "t4"."_c_days_since_funding" = 1
                      THEN 2
                      WHEN "t4"."_c_days_since_funding" = 2
                      THEN 7
                      WHEN "t4"."_c_days_since_funding" = 3
                      THEN 16
                      ELSE CAST(NULL AS INT)
                    END
                  ] AS INT[]),
                  LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                )
              ),
              1,
              3
            ),
            LAMBDA __ibis_param_r__ : LIST_EXTRACT(
              [
                'industry: computer software (+25)',
                'industry: internet (+25)',
                'days_since_funding: funded in the last 90 days (+20)',
                'employees: in 50-500 (+20)',
                'technologies: has Salesforce (+20)',
                'country: CA (+15)',
                'country: US (+15)',
                'days_since_funding: funded in the last year (+14)',
                'industry: information technology and services (+12)',
                'employees: within 25% of 50-500 (+10)',
                'technologies: has HubSpot (competitor) (+8)',
                'country: AU (+7)',
                'country: GB (+7)',
                'country: IE (+7)',
                'industry: financial services (+6)',
                'industry: marketing and advertising (+6)',
                'days_since_funding: funded in the last two years (+5)',
                'technologies: missing (+3)',
                'technologies: none of the listed (+3)'
              ],
              __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
            )
          ) IS NULL
          OR LIST_APPLY(
            LIST_SLICE(
              LIST_SORT(
                LIST_FILTER(
                  CAST([CASE WHEN "t4"."_a_agency" = 1 THEN 0 ELSE CAST(NULL AS INT) END] AS INT[]),
                  LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                )
              ),
              1,
              2
            ),
            LAMBDA __ibis_param_r__ : LIST_EXTRACT(
              ['agencies churn within a year (-15)'],
              __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
            )
          ) IS NULL
          THEN NULL
          ELSE LIST_CONCAT(
            LIST_APPLY(
              LIST_SLICE(
                LIST_SORT(
                  LIST_FILTER(
                    CAST([
                      CASE
                        WHEN "t4"."_c_industry" = 1
                        THEN 0
                        WHEN "t4"."_c_industry" = 2
                        THEN 1
                        WHEN "t4"."_c_industry" = 3
                        THEN 8
                        WHEN "t4"."_c_industry" = 4
                        THEN 15
                        WHEN "t4"."_c_industry" = 5
                        THEN 14
                        ELSE CAST(NULL AS INT)
                      END,
                      CASE
                        WHEN "t4"."_c_employees" = 1
                        THEN 3
                        WHEN "t4"."_c_employees" = 2
                        THEN 9
                        ELSE CAST(NULL AS INT)
                      END,
                      CASE
                        WHEN "t4"."_c_technologies" = 0
                        THEN 17
                        WHEN "t4"."_c_technologies" = 1
                        THEN 4
                        WHEN "t4"."_c_technologies" = 2
                        THEN 10
                        WHEN "t4"."_c_technologies" = 3
                        THEN 18
                        ELSE CAST(NULL AS INT)
                      END,
                      CASE
                        WHEN "t4"."_c_country" = 1
                        THEN 6
                        WHEN "t4"."_c_country" = 2
                        THEN 5
                        WHEN "t4"."_c_country" = 3
                        THEN 12
                        WHEN "t4"."_c_country" = 4
                        THEN 13
                        WHEN "t4"."_c_country" = 5
                        THEN 11
                        ELSE CAST(NULL AS INT)
                      END,
                      CASE
                        WHEN "t4"."_c_days_since_funding" = 1
                        THEN 2
                        WHEN "t4"."_c_days_since_funding" = 2
                        THEN 7
                        WHEN "t4"."_c_days_since_funding" = 3
                        THEN 16
                        ELSE CAST(NULL AS INT)
                      END
                    ] AS INT[]),
                    LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                  )
                ),
                1,
                3
              ),
              LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                [
                  'industry: computer software (+25)',
                  'industry: internet (+25)',
                  'days_since_funding: funded in the last 90 days (+20)',
                  'employees: in 50-500 (+20)',
                  'technologies: has Salesforce (+20)',
                  'country: CA (+15)',
                  'country: US (+15)',
                  'days_since_funding: funded in the last year (+14)',
                  'industry: information technology and services (+12)',
                  'employees: within 25% of 50-500 (+10)',
                  'technologies: has HubSpot (competitor) (+8)',
                  'country: AU (+7)',
                  'country: GB (+7)',
                  'country: IE (+7)',
                  'industry: financial services (+6)',
                  'industry: marketing and advertising (+6)',
                  'days_since_funding: funded in the last two years (+5)',
                  'technologies: missing (+3)',
                  'technologies: none of the listed (+3)'
                ],
                __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
              )
            ),
            LIST_APPLY(
              LIST_SLICE(
                LIST_SORT(
                  LIST_FILTER(
                    CAST([CASE WHEN "t4"."_a_agency" = 1 THEN 0 ELSE CAST(NULL AS INT) END] AS INT[]),
                    LAMBDA __ibis_param_r__ : __ibis_param_r__ IS NOT NULL
                  )
                ),
                1,
                2
              ),
              LAMBDA __ibis_param_r__ : LIST_EXTRACT(
                ['agencies churn within a year (-15)'],
                __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
              )
            )
          )
        END,
        '; '
      ),
      ''
    )
  END AS "reasons"
FROM (
  SELECT
    "t3"."_key",
    "t3"."_c_industry",
    "t3"."_c_employees",
    "t3"."_c_technologies",
    "t3"."_c_country",
    "t3"."_c_days_since_funding",
    "t3"."_a_agency",
    "t3"."_dq",
    "t3"."points_industry",
    "t3"."points_employees",
    "t3"."points_technologies",
    "t3"."points_country",
    "t3"."points_days_since_funding",
    "t3"."points_agency",
    CASE
      WHEN CASE
        WHEN (
          (
            SIGN(
              (
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                      ) * 100
                    )
                  ) AS BIGINT)
                ) >= 0.5
                THEN 1
                ELSE 0
              END
            )
          ) / 100
        ) IS NULL
        THEN (
          SIGN(
            (
              "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
            ) * 100
          ) * (
            CAST(FLOOR(
              ABS(
                (
                  "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                ) * 100
              )
            ) AS BIGINT) + CASE
              WHEN (
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                  ) * 100
                ) - CAST(FLOOR(
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  )
                ) AS BIGINT)
              ) >= 0.5
              THEN 1
              ELSE 0
            END
          )
        ) / 100
        ELSE LEAST(
          100,
          (
            SIGN(
              (
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                      ) * 100
                    )
                  ) AS BIGINT)
                ) >= 0.5
                THEN 1
                ELSE 0
              END
            )
          ) / 100
        )
      END IS NULL
      THEN CASE
        WHEN (
          (
            SIGN(
              (
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                      ) * 100
                    )
                  ) AS BIGINT)
                ) >= 0.5
                THEN 1
                ELSE 0
              END
            )
          ) / 100
        ) IS NULL
        THEN (
          SIGN(
            (
              "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
            ) * 100
          ) * (
            CAST(FLOOR(
              ABS(
                (
                  "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                ) * 100
              )
            ) AS BIGINT) + CASE
              WHEN (
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                  ) * 100
                ) - CAST(FLOOR(
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  )
                ) AS BIGINT)
              ) >= 0.5
              THEN 1
              ELSE 0
            END
          )
        ) / 100
        ELSE LEAST(
          100,
          (
            SIGN(
              (
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                      ) * 100
                    )
                  ) AS BIGINT)
                ) >= 0.5
                THEN 1
                ELSE 0
              END
            )
          ) / 100
        )
      END
      ELSE GREATEST(
        0,
        CASE
          WHEN (
            (
              SIGN(
                (
                  "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                ) * 100
              ) * (
                CAST(FLOOR(
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  )
                ) AS BIGINT) + CASE
                  WHEN (
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                      ) * 100
                    ) - CAST(FLOOR(
                      ABS(
                        (
                          "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                        ) * 100
                      )
                    ) AS BIGINT)
                  ) >= 0.5
                  THEN 1
                  ELSE 0
                END
              )
            ) / 100
          ) IS NULL
          THEN (
            SIGN(
              (
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                      ) * 100
                    )
                  ) AS BIGINT)
                ) >= 0.5
                THEN 1
                ELSE 0
              END
            )
          ) / 100
          ELSE LEAST(
            100,
            (
              SIGN(
                (
                  "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                ) * 100
              ) * (
                CAST(FLOOR(
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                    ) * 100
                  )
                ) AS BIGINT) + CASE
                  WHEN (
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                      ) * 100
                    ) - CAST(FLOOR(
                      ABS(
                        (
                          "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding" + "t3"."points_agency"
                        ) * 100
                      )
                    ) AS BIGINT)
                  ) >= 0.5
                  THEN 1
                  ELSE 0
                END
              )
            ) / 100
          )
        END
      )
    END AS "fit_score"
  FROM (
    SELECT
      "t2"."_key",
      "t2"."_c_industry",
      "t2"."_c_employees",
      "t2"."_c_technologies",
      "t2"."_c_country",
      "t2"."_c_days_since_funding",
      "t2"."_a_agency",
      "t2"."_dq",
      CAST(CASE
        WHEN "t2"."_c_industry" = 0
        THEN 0.0
        WHEN "t2"."_c_industry" = 1
        THEN 25.0
        WHEN "t2"."_c_industry" = 2
        THEN 25.0
        WHEN "t2"."_c_industry" = 3
        THEN 12.0
        WHEN "t2"."_c_industry" = 4
        THEN 6.0
        WHEN "t2"."_c_industry" = 5
        THEN 6.0
        ELSE 0.0
      END AS DOUBLE) AS "points_industry",
      CAST(CASE
        WHEN "t2"."_c_employees" = 0
        THEN 0.0
        WHEN "t2"."_c_employees" = 1
        THEN 20.0
        WHEN "t2"."_c_employees" = 2
        THEN 10.0
        ELSE 0.0
      END AS DOUBLE) AS "points_employees",
      CAST(CASE
        WHEN "t2"."_c_technologies" = 0
        THEN 3.0
        WHEN "t2"."_c_technologies" = 1
        THEN 20.0
        WHEN "t2"."_c_technologies" = 2
        THEN 8.0
        ELSE 3.0
      END AS DOUBLE) AS "points_technologies",
      CAST(CASE
        WHEN "t2"."_c_country" = 0
        THEN 0.0
        WHEN "t2"."_c_country" = 1
        THEN 15.0
        WHEN "t2"."_c_country" = 2
        THEN 15.0
        WHEN "t2"."_c_country" = 3
        THEN 7.0
        WHEN "t2"."_c_country" = 4
        THEN 7.0
        WHEN "t2"."_c_country" = 5
        THEN 7.0
        ELSE 0.0
      END AS DOUBLE) AS "points_country",
      CAST(CASE
        WHEN "t2"."_c_days_since_funding" = 0
        THEN 0.0
        WHEN "t2"."_c_days_since_funding" = 1
        THEN 20.0
        WHEN "t2"."_c_days_since_funding" = 2
        THEN 14.0
        WHEN "t2"."_c_days_since_funding" = 3
        THEN 5.0
        ELSE 0.0
      END AS DOUBLE) AS "points_days_since_funding",
      CAST(CASE WHEN "t2"."_a_agency" = 1 THEN -15.0 ELSE 0.0 END AS DOUBLE) AS "points_agency"
    FROM (
      SELECT
        "t1"."_key",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          1
        )) AS BIGINT) % 7 AS TINYINT) AS "_c_industry",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          7
        )) AS BIGINT) % 4 AS TINYINT) AS "_c_employees",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          28
        )) AS BIGINT) % 4 AS TINYINT) AS "_c_technologies",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          112
        )) AS BIGINT) % 7 AS TINYINT) AS "_c_country",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          784
        )) AS BIGINT) % 5 AS TINYINT) AS "_c_days_since_funding",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          3920
        )) AS BIGINT) % 2 AS TINYINT) AS "_a_agency",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          7840
        )) AS BIGINT) % 2 AS TINYINT) AS "_dq"
      FROM (
        SELECT DISTINCT
          "t0"."_key"
        FROM "icp_rows" AS "t0"
      ) AS "t1"
    ) AS "t2"
  ) AS "t3"
) AS "t4"
)
SELECT
  "t11"."domain",
  "t11"."name",
  "t11"."fit_score",
  "t11"."tier",
  "t11"."abm_tier",
  "t11"."route",
  "t11"."disqualified_by",
  "t11"."reasons",
  "t11"."points_industry",
  "t11"."points_employees",
  "t11"."points_technologies",
  "t11"."points_country",
  "t11"."points_days_since_funding",
  "t11"."points_agency",
  'f6555b6b4aa7' AS "profile_version",
  MAKE_TIMESTAMP(2026, 1, 31, 12, 0, 0.0) AS "scored_at"
FROM (
  SELECT
    "t2"."domain",
    "t2"."name",
    "t3"."fit_score",
    "t3"."tier",
    "t3"."route",
    "t3"."disqualified_by",
    "t3"."reasons",
    "t3"."points_industry",
    "t3"."points_employees",
    "t3"."points_technologies",
    "t3"."points_country",
    "t3"."points_days_since_funding",
    "t3"."points_agency",
    CASE
      WHEN NOT (
        (
          "t3"."tier" = 'high'
        ) AND (
          "t3"."disqualified_by" IS NULL
        )
      )
      THEN CAST(NULL AS TEXT)
      WHEN "t10"."_abm_rank" IS NULL
      THEN 'C'
      WHEN "t10"."_abm_rank" < 50
      THEN 'A'
      ELSE 'B'
    END AS "abm_tier"
  FROM "icp_rows" AS "t2"
  INNER JOIN "icp_combos" AS "t3"
    ON "t2"."_key" = "t3"."_key"
  LEFT OUTER JOIN (
    SELECT
      "t8"."domain" AS "_abm_key",
      ROW_NUMBER() OVER (
        ORDER BY "t8"."fit_score" DESC, "t8"."domain" ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) - 1 AS "_abm_rank"
    FROM (
      SELECT
        *
      FROM (
        SELECT
          "t2"."domain",
          "t5"."fit_score"
        FROM "icp_rows" AS "t2"
        INNER JOIN (
          SELECT
            "t1"."_key",
            "t1"."fit_score"
          FROM "icp_combos" AS "t1"
          WHERE
            "t1"."tier" = 'high' AND "t1"."disqualified_by" IS NULL
        ) AS "t5"
          ON "t2"."_key" = "t5"."_key"
      ) AS "t6"
      ORDER BY
        "t6"."fit_score" DESC,
        "t6"."domain" ASC
      LIMIT 250
    ) AS "t8"
  ) AS "t10"
    ON "t2"."domain" = "t10"."_abm_key"
) AS "t11"
