WITH icp_rows AS MATERIALIZED (
SELECT
  "t0"."domain",
  "t0"."name",
  0 + (
    CAST(CAST(CASE LOWER("t0"."industry")
      WHEN 'computer software'
      THEN 1
      WHEN 'internet'
      THEN 2
      WHEN 'information technology and services'
      THEN 3
      WHEN 'marketing and advertising'
      THEN 4
      WHEN 'software development'
      THEN 1
      WHEN 'software_development'
      THEN 1
      WHEN 'computer_software'
      THEN 1
      WHEN 'software'
      THEN 1
      WHEN 'saas'
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
      ELSE 5
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
    END AS BIGINT) * 6
  ) + (
    CAST(CASE
      WHEN "t0"."technologies" IS NULL
      THEN 0
      WHEN ARRAY_CONTAINS("t0"."technologies", 'salesforce')
      THEN 1
      WHEN ARRAY_CONTAINS("t0"."technologies", 'hubspot')
      THEN 2
      ELSE 3
    END AS BIGINT) * 24
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
    END * CAST("t0"."country" IS NOT NULL AS INT) AS TINYINT) AS BIGINT) * 96
  ) + (
    CAST(CASE
      WHEN "t0"."days_since_funding" IS NULL
      THEN 0
      WHEN "t0"."days_since_funding" <= 90.0
      THEN 1
      WHEN (
        "t0"."days_since_funding" >= 91.0
      )
      AND (
        "t0"."days_since_funding" <= 365.0
      )
      THEN 2
      ELSE 3
    END AS BIGINT) * 672
  ) + (
    CAST(0 AS BIGINT) * 2688
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
  "t4"."_dq",
  "t4"."points_industry",
  "t4"."points_employees",
  "t4"."points_technologies",
  "t4"."points_country",
  "t4"."points_days_since_funding",
  "t4"."fit_score",
  CASE
    WHEN "t4"."fit_score" >= 70.0
    THEN 'high'
    WHEN "t4"."fit_score" >= 40.0
    THEN 'monitor'
    ELSE 'disqualify'
  END AS "tier",
  CASE
    WHEN CASE
      WHEN "t4"."fit_score" >= 70.0
      THEN 'high'
      WHEN "t4"."fit_score" >= 40.0
      THEN 'monitor'
      ELSE 'disqualify'
    END = 'high'
    THEN 'ae_queue'
    WHEN CASE
      WHEN "t4"."fit_score" >= 70.0
      THEN 'high'
      WHEN "t4"."fit_score" >= 40.0
      THEN 'monitor'
      ELSE 'disqualify'
    END = 'monitor'
    THEN 'nurture'
    WHEN CASE
      WHEN "t4"."fit_score" >= 70.0
      THEN 'high'
      WHEN "t4"."fit_score" >= 40.0
      THEN 'monitor'
      ELSE 'disqualify'
    END = 'disqualify'
    THEN 'suppress'
    ELSE CAST(NULL AS TEXT)
  END AS "route",
  CAST(NULL AS TEXT) AS "disqualified_by",
  COALESCE(
    ARRAY_TO_STRING(
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
                  THEN 7
                  WHEN "t4"."_c_industry" = 4
                  THEN 8
                  ELSE CAST(NULL AS INT)
                END,
                CASE
                  WHEN "t4"."_c_employees" = 1
                  THEN 3
                  WHEN "t4"."_c_employees" = 2
                  THEN 10
                  ELSE CAST(NULL AS INT)
                END,
                CASE
                  WHEN "t4"."_c_technologies" = 0
                  THEN 15
                  WHEN "t4"."_c_technologies" = 1
                  THEN 4
                  WHEN "t4"."_c_technologies" = 2
                  THEN 11
                  WHEN "t4"."_c_technologies" = 3
                  THEN 16
                  ELSE CAST(NULL AS INT)
                END,
                CASE
                  WHEN "t4"."_c_country" = 1
                  THEN 6
                  WHEN "t4"."_c_country" = 2
                  THEN 5
                  WHEN "t4"."_c_country" = 3
                  THEN 13
                  WHEN "t4"."_c_country" = 4
                  THEN 14
                  WHEN "t4"."_c_country" = 5
                  THEN 12
                  ELSE CAST(NULL AS INT)
                END,
                CASE
                  WHEN "t4"."_c_days_since_funding" = 1
                  THEN 2
                  WHEN "t4"."_c_days_since_funding" = 2
                  THEN 9
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
            'industry: information technology and services (+12)',
            'industry: marketing and advertising (+12)',
            'days_since_funding: funded 91-365 days ago (+10)',
            'employees: within 25% of 50-500 (+10)',
            'technologies: has HubSpot (competitor) (+10)',
            'country: AU (+7)',
            'country: GB (+7)',
            'country: IE (+7)',
            'technologies: missing (+5)',
            'technologies: none of the listed (+5)'
          ],
          __ibis_param_r__ + CAST(__ibis_param_r__ >= 0 AS INT)
        )
      ),
      '; '
    ),
    ''
  ) AS "reasons"
FROM (
  SELECT
    "t3"."_key",
    "t3"."_c_industry",
    "t3"."_c_employees",
    "t3"."_c_technologies",
    "t3"."_c_country",
    "t3"."_c_days_since_funding",
    "t3"."_dq",
    "t3"."points_industry",
    "t3"."points_employees",
    "t3"."points_technologies",
    "t3"."points_country",
    "t3"."points_days_since_funding",
    CASE
      WHEN CASE
        WHEN (
          (
            SIGN(
              (
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
              "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
            ) * 100
          ) * (
            CAST(FLOOR(
              ABS(
                (
                  "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                ) * 100
              )
            ) AS BIGINT) + CASE
              WHEN (
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                  ) * 100
                ) - CAST(FLOOR(
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
              "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
            ) * 100
          ) * (
            CAST(FLOOR(
              ABS(
                (
                  "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                ) * 100
              )
            ) AS BIGINT) + CASE
              WHEN (
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                  ) * 100
                ) - CAST(FLOOR(
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
                  "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                ) * 100
              ) * (
                CAST(FLOOR(
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                    ) * 100
                  )
                ) AS BIGINT) + CASE
                  WHEN (
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                      ) * 100
                    ) - CAST(FLOOR(
                      ABS(
                        (
                          "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
                "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
              ) * 100
            ) * (
              CAST(FLOOR(
                ABS(
                  (
                    "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                  ) * 100
                )
              ) AS BIGINT) + CASE
                WHEN (
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                    ) * 100
                  ) - CAST(FLOOR(
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
                  "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                ) * 100
              ) * (
                CAST(FLOOR(
                  ABS(
                    (
                      "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                    ) * 100
                  )
                ) AS BIGINT) + CASE
                  WHEN (
                    ABS(
                      (
                        "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
                      ) * 100
                    ) - CAST(FLOOR(
                      ABS(
                        (
                          "t3"."points_industry" + "t3"."points_employees" + "t3"."points_technologies" + "t3"."points_country" + "t3"."points_days_since_funding"
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
        THEN 12.0
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
        THEN 5.0
        WHEN "t2"."_c_technologies" = 1
        THEN 20.0
        WHEN "t2"."_c_technologies" = 2
        THEN 10.0
        ELSE 5.0
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
        THEN 10.0
        ELSE 0.0
      END AS DOUBLE) AS "points_days_since_funding"
    FROM (
      SELECT
        "t1"."_key",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          1
        )) AS BIGINT) % 6 AS TINYINT) AS "_c_industry",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          6
        )) AS BIGINT) % 4 AS TINYINT) AS "_c_employees",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          24
        )) AS BIGINT) % 4 AS TINYINT) AS "_c_technologies",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          96
        )) AS BIGINT) % 7 AS TINYINT) AS "_c_country",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          672
        )) AS BIGINT) % 4 AS TINYINT) AS "_c_days_since_funding",
        CAST(CAST(FLOOR((
          "t1"."_key"
        ) / (
          2688
        )) AS BIGINT) % 1 AS TINYINT) AS "_dq"
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
  'c901135ee6e0' AS "profile_version",
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
